/**
 * @module Public surface of the Kubernetes protobuf codec: request bodies sent as
 * application/vnd.kubernetes.protobuf (kubectl 1.32+ `create`, `autoscale`) decoded to
 * the JSON form, and the inverse.
 */
export {
  decodeProtobufObject,
  decodeProtobufMessage,
  encodeProtobufObject,
  encodeProtobufMessage,
  protobufMessageName,
  descriptorSource,
  ProtobufEncodeError,
  PROTOBUF_CONTENT_TYPE,
  PROTOBUF_MAGIC,
} from './decode.js';

/**
 * @module Request bodies in application/vnd.kubernetes.protobuf (kubectl 1.32's
 * `create` and `autoscale`), decoded into Kubernetes JSON form.
 */
import { decodeProtobufObject } from '../api/protobuf/index.js';
import type { KObject } from '../api/types.js';

export function decodeProtobufBody(body: Buffer): KObject {
  return decodeProtobufObject(body);
}

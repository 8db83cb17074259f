/** @module Golden tests of the function library: outputs printed by native Go 1.19 (sprig 3.2.3, sigs.k8s.io/yaml 1.3, BurntSushi/toml) for the same templates, plus property tests of the non-deterministic functions (certificates, keys, bcrypt, random). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import bcryptjs from 'bcryptjs';
import { TemplateSet, type GoValue } from '../template/index.js';
import { helmFuncMap, helmFuncs, sprigFuncs, WARN_END, WARN_START } from './index.js';

const funcs = helmFuncMap();

function render(t: string, data: unknown = null, f = funcs): string {
  try {
    return new TemplateSet({ funcs: f }).parse('t', t).execute('t', data as GoValue);
  } catch (e) {
    return 'ERROR: ' + (e as Error).message;
  }
}

/** [template, data, native Go's output or "ERROR: " + its error]. */
const golden: [string, unknown, string][] = [
  ["{{ dateInZone \"2006-01-02T15:04:05Z07:00 MST\" 1700000000 \"America/New_York\" }}", null, "2023-11-14T17:13:20-05:00 EST"],
  ["{{ dateInZone \"15:04 MST -0700\" 1690000000 \"America/New_York\" }}|{{ dateInZone \"15:04 MST\" 1700000000 \"Europe/Berlin\" }}|{{ dateInZone \"15:04 MST\" 1700000000 \"Asia/Kolkata\" }}|{{ dateInZone \"15:04 MST\" 1700000000 \"Nowhere/Bad\" }}", null, "00:26 EDT -0400|23:13 CET|03:43 IST|22:13 UTC"],
  ["{{ date \"2006-01-02 15:04:05 MST\" 1700000000 }}|{{ htmlDate 1700000000 }}|{{ toDate \"2006-01-02\" \"2020-02-29\" }}", null, "2023-11-14 22:13:20 UTC|2023-11-14|2020-02-29 00:00:00 +0000 UTC"],
  ["{{ (toDate \"2006-01-02 15:04\" \"2021-03-14 02:30\").Unix }}|{{ toDate \"Jan 2, 2006 at 3:04pm (MST)\" \"Feb 3, 2013 at 7:54pm (PST)\" }}", null, "1615689000|2013-02-03 19:54:00 +0000 PST"],
  ["{{ mustToDate \"2006-01-02\" \"2021-02-30\" }}", null, "ERROR: template: t:1:3: executing \"t\" at <mustToDate \"2006-01-02\" \"2021-02-30\">: error calling mustToDate: parsing time \"2021-02-30\": day out of range"],
  ["{{ printf \"%v\" (toDate \"2006-01-02\" \"2020-01-02\") }}", null, "2020-01-02 00:00:00 +0000 UTC"],
  ["{{ toYaml . }}", {"a": {"b": [1, 2, {"c": "d"}], "e": "multi\nline\n"}, "f": "x"}, "a:\n  b:\n  - 1\n  - 2\n  - c: d\n  e: |\n    multi\n    line\nf: x"],
  ["{{ fromYaml \"a: [1\" }}", null, "map[Error:error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']']"],
  ["{{ fromYaml \"a: b: c\" }}", null, "map[Error:error converting YAML to JSON: yaml: mapping values are not allowed in this context]"],
  ["{{ fromYaml \"- x\" }}", null, "map[Error:error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}]"],
  ["{{ toToml . }}", {"title": "t", "owner": {"name": "n", "dob": 1.5}, "list": [1, 2]}, "list = [1.0, 2.0]\ntitle = \"t\"\n\n[owner]\n  dob = 1.5\n  name = \"n\"\n"],
  ["{{ semverCompare \">= 1.2.3, < 2\" \"1.5.0\" }} {{ semverCompare \"~1.2.x\" \"1.2.9\" }} {{ semverCompare \"^0.0.x\" \"0.0.5\" }}", null, "true true true"],
  ["{{ derivePassword 2 \"pin\" \"p\" \"u\" \"s\" }} {{ derivePassword 1 \"maximum\" \"x\" \"y\" \"z\" }} {{ derivePassword 7 \"basic\" \"pw\" \"me\" \"site\" }}", null, "8889 y9(jY^Rrlwqt3BNU#13[ SQ46ivo4"],
  ["{{ decryptAES \"secretkey\" .c }}", {"c": "p9Domz7AM0aXMkQULAgZA5LhT2bYOIU6hFSLMryg6L8="}, "plain text!"],
  ["{{ camelcase \"hello_world-foo bar\" }} {{ snakecase \"XMLHttpRequest\" }} {{ kebabcase \"ABCWord9Thing\" }}", null, "HelloWorldFooBar xml_http_request abc-word9-thing"],
  ["{{ toJson . }}", {"html": "<x>&", "n": 1e+21, "m": 1e-07, "i": 5}, "{\"html\":\"\\u003cx\\u003e\\u0026\",\"i\":5,\"m\":1e-7,\"n\":1e+21}"],
  ["{{ printf \"%v %.3e %08.2f %+d %x %q\" 123456789.0 1234.5678 -3.14159 5 -255 \"a\\tb\" }}", null, "1.23456789e+08 1.235e+03 -0003.14 +5 -ff \"a\\tb\""],
  ["{{ toYaml . }}", {"a10": 1, "a2": 2, "a1": 3, "B": 4, "b": 5, "10": 6, "9": 7, "_x": 8, "y": "n", "on": "off", "e": "", "t": "2024-01-02", "oct": "0777", "hash": "a #b", "colon": "a: b", "lead": " x", "tab": "a\tb", "lit": "l1\nl2\n", "keep": "k\n\n", "long": "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss", "nested": {"l": [{"x": 1, "y": [2, 3]}, [], {}], "f": 1.5, "big": 1e+21, "int": 1000000, "neg": -0.25}}, "_x: 8\n\"9\": 7\n\"10\": 6\nB: 4\na1: 3\na2: 2\na10: 1\nb: 5\ncolon: 'a: b'\ne: \"\"\nhash: 'a #b'\nkeep: |+\n  k\n\nlead: ' x'\nlit: |\n  l1\n  l2\nlong: aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp\n  qqqq rrrr ssss\nnested:\n  big: 1e+21\n  f: 1.5\n  int: 1000000\n  l:\n  - x: 1\n    \"y\":\n    - 2\n    - 3\n  - []\n  - {}\n  neg: -0.25\noct: \"0777\"\n\"on\": \"off\"\nt: \"2024-01-02\"\ntab: \"a\\tb\"\n\"y\": \"n\""],
  ["{{ toJson . }}|{{ toPrettyJson . }}", {"b": ["<&>", 1e-07, 12345678.5, null], "a": {"u": "é "}}, "{\"a\":{\"u\":\"é\\u2028\"},\"b\":[\"\\u003c\\u0026\\u003e\",1e-7,12345678.5,null]}|{\n  \"a\": {\n    \"u\": \"é\\u2028\"\n  },\n  \"b\": [\n    \"\\u003c\\u0026\\u003e\",\n    1e-7,\n    12345678.5,\n    null\n  ]\n}"],
  ["{{ fromYaml \"a: 1\\nb: [x, 2.5, yes, ~, 0x10, 1e3]\\nc: {d: \\\"q\\\"}\\n\" | toJson }}", null, "{\"a\":1,\"b\":[\"x\",2.5,true,null,16,1000],\"c\":{\"d\":\"q\"}}"],
  ["{{ fromJson \"{\\\"a\\\" 1}\" }}|{{ fromJson \"[1 2]\" }}|{{ fromJsonArray \"{}\" }}", null, "map[Error:invalid character '1' after object key]|map[Error:invalid character '2' after array element]|[json: cannot unmarshal object into Go value of type []interface {}]"],
  ["{{ regexReplaceAll \"(?P<w>[a-z]+)(\\\\d)\" \"ab1 cd2\" \"${2}$w$1x\" }}|{{ regexSplit \"\\\\s*,\\\\s*\" \"a , b,c\" -1 }}|{{ regexFindAll \"(?i)A.\" \"a1 A2 b3\" 5 }}", null, "1ab 2cd|[a b c]|[a1 A2]"],
  ["{{ dateInZone \"Monday, 02-Jan-06 15:04:05.999999 MST\" 1234567890 \"Australia/Lord_Howe\" }}|{{ dateInZone \"3:04:05PM Z07:00:00\" 1234567890 \"America/St_Johns\" }}", null, "Saturday, 14-Feb-09 10:31:30 +11|8:01:30PM -03:30:00"]
];

/** Every name in sprig v3.2.3's GenericFuncMap. */
const SPRIG_NAMES = ["abbrev", "abbrevboth", "add", "add1", "add1f", "addf", "adler32sum", "ago", "all", "any", "append", "atoi", "b32dec", "b32enc", "b64dec", "b64enc", "base", "bcrypt", "biggest", "buildCustomCert", "camelcase", "cat", "ceil", "chunk", "clean", "coalesce", "compact", "concat", "contains", "date", "dateInZone", "dateModify", "date_in_zone", "date_modify", "decryptAES", "deepCopy", "deepEqual", "default", "derivePassword", "dict", "dig", "dir", "div", "divf", "duration", "durationRound", "empty", "encryptAES", "env", "expandenv", "ext", "fail", "first", "float64", "floor", "fromJson", "genCA", "genCAWithKey", "genPrivateKey", "genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey", "get", "getHostByName", "has", "hasKey", "hasPrefix", "hasSuffix", "hello", "htmlDate", "htmlDateInZone", "htpasswd", "indent", "initial", "initials", "int", "int64", "isAbs", "join", "kebabcase", "keys", "kindIs", "kindOf", "last", "list", "lower", "max", "maxf", "merge", "mergeOverwrite", "min", "minf", "mod", "mul", "mulf", "mustAppend", "mustChunk", "mustCompact", "mustDateModify", "mustDeepCopy", "mustFirst", "mustFromJson", "mustHas", "mustInitial", "mustLast", "mustMerge", "mustMergeOverwrite", "mustPrepend", "mustPush", "mustRegexFind", "mustRegexFindAll", "mustRegexMatch", "mustRegexReplaceAll", "mustRegexReplaceAllLiteral", "mustRegexSplit", "mustRest", "mustReverse", "mustSlice", "mustToDate", "mustToJson", "mustToPrettyJson", "mustToRawJson", "mustUniq", "mustWithout", "must_date_modify", "nindent", "nospace", "now", "omit", "osBase", "osClean", "osDir", "osExt", "osIsAbs", "pick", "pluck", "plural", "prepend", "push", "quote", "randAlpha", "randAlphaNum", "randAscii", "randBytes", "randInt", "randNumeric", "regexFind", "regexFindAll", "regexMatch", "regexQuoteMeta", "regexReplaceAll", "regexReplaceAllLiteral", "regexSplit", "repeat", "replace", "rest", "reverse", "round", "semver", "semverCompare", "seq", "set", "sha1sum", "sha256sum", "shuffle", "slice", "snakecase", "sortAlpha", "split", "splitList", "splitn", "squote", "sub", "subf", "substr", "swapcase", "ternary", "title", "toDate", "toDecimal", "toJson", "toPrettyJson", "toRawJson", "toString", "toStrings", "trim", "trimAll", "trimPrefix", "trimSuffix", "trimall", "trunc", "tuple", "typeIs", "typeIsLike", "typeOf", "uniq", "unixEpoch", "unset", "until", "untilStep", "untitle", "upper", "urlJoin", "urlParse", "uuidv4", "values", "without", "wrap", "wrapWith"];

describe('function library golden outputs (native Go)', () => {
  for (const [t, data, want] of golden) {
    it(t.length > 70 ? t.slice(0, 70) + '…' : t, () => assert.equal(render(t, data), want));
  }
});

describe('function library', () => {
  it('has every sprig function; Helm drops env and expandenv', () => {
    const sprig = sprigFuncs();
    assert.deepEqual(SPRIG_NAMES.filter((n) => !sprig[n]), []);
    assert.ok(sprig.env && sprig.expandenv);
    assert.equal(funcs.env, undefined);
    assert.equal(funcs.expandenv, undefined);
    for (const n of ['toYaml', 'fromYaml', 'fromYamlArray', 'toJson', 'fromJson', 'fromJsonArray', 'toToml', 'fromToml', 'mustToYaml', 'mustToJson', 'required']) assert.ok(funcs[n], n);
  });

  it('fromToml decodes as BurntSushi/toml into interface{} (int64 integers); errors land in .Error', () => {
    assert.equal(render('{{ $m := fromToml "a = 1\\nb = 1.5\\n[t]\\nc = \\"x\\"" }}{{ toJson $m }} {{ typeOf $m.a }} {{ typeOf $m.b }}'), '{"a":1,"b":1.5,"t":{"c":"x"}} int64 float64');
    assert.match(render('{{ (fromToml "a = ").Error }}'), /.+/);
  });

  it('required and fail wrap their message for the Helm engine; lint mode only logs', () => {
    assert.equal(render('{{ required "need x" .x }}', {}), `ERROR: template: t:1:3: executing "t" at <required "need x" .x>: error calling required: ${WARN_START}need x${WARN_END}`);
    assert.equal(render('{{ fail "boom" }}'), `ERROR: template: t:1:3: executing "t" at <fail "boom">: error calling fail: ${WARN_START}boom${WARN_END}`);
    const logs: string[] = [];
    const lint = { ...funcs, ...helmFuncs({ lintMode: true, onInfo: (m) => logs.push(m) }) };
    assert.equal(render('[{{ required "need x" .x }}][{{ fail "f" }}]', {}, lint), '[][]');
    assert.deepEqual(logs, ['[INFO] Missing required value: need x', '[INFO] Fail: f']);
  });

  it('generates CA, self-signed and CA-signed certificates a TLS stack accepts', () => {
    const out = render('{{ $ca := genCA "my-ca" 365 }}{{ $c := genSignedCert "web" (list "10.0.0.7") (list "web.svc" "web") 30 $ca }}{{ $s := genSelfSignedCert "self" nil (list "s.local") 10 }}{{ $ca.Cert }}#{{ $ca.Key }}#{{ $c.Cert }}#{{ $c.Key }}#{{ $s.Cert }}');
    const [caPem, caKey, certPem, certKey, selfPem] = out.split('#') as [string, string, string, string, string];
    const ca = new X509Certificate(caPem);
    const cert = new X509Certificate(certPem);
    const self = new X509Certificate(selfPem);
    assert.equal(ca.subject, 'CN=my-ca');
    assert.equal(ca.issuer, 'CN=my-ca');
    assert.ok(ca.ca);
    assert.ok(ca.verify(ca.publicKey));
    const days = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / 86400000;
    assert.ok(Math.abs(days - 365) < 1, `CA valid ${days} days`);
    assert.equal(cert.issuer, 'CN=my-ca');
    assert.equal(cert.subject, 'CN=web');
    assert.ok(!cert.ca);
    assert.ok(cert.verify(ca.publicKey));
    assert.match(cert.subjectAltName ?? '', /DNS:web\.svc, DNS:web, IP Address:10\.0\.0\.7/);
    assert.ok(cert.checkIssued(ca));
    assert.ok(self.verify(self.publicKey));
    assert.match(caKey, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.equal(createPrivateKey(certKey).asymmetricKeyType, 'rsa');
    assert.ok(cert.checkPrivateKey(createPrivateKey(certKey)));
  });

  it('generates private keys in the PEM formats sprig writes', () => {
    const pem = (t: string) => render(`{{ genPrivateKey "${t}" }}`);
    const ec = pem('ecdsa');
    assert.match(ec, /^-----BEGIN EC PRIVATE KEY-----\n/);
    assert.equal(createPrivateKey(ec).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const ed = pem('ed25519');
    assert.match(ed, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(createPrivateKey(ed).asymmetricKeyType, 'ed25519');
    const dsa = pem('dsa');
    assert.match(dsa, /^-----BEGIN DSA PRIVATE KEY-----\n/);
    assert.equal(createPrivateKey(dsa).asymmetricKeyType, 'dsa');
    assert.equal(pem('x'), 'Unknown type x');
  });

  it('bcrypt and htpasswd verify with a bcrypt library; AES round-trips', () => {
    const [user, hash] = render('{{ htpasswd "admin" "s3cret" }}').split(':') as [string, string];
    assert.equal(user, 'admin');
    assert.match(hash, /^\$2a\$10\$/);
    assert.ok(bcryptjs.compareSync('s3cret', hash));
    assert.equal(render('{{ encryptAES "k" "hello" | decryptAES "k" }}'), 'hello');
    assert.notEqual(render('{{ encryptAES "k" "hello" }}'), render('{{ encryptAES "k" "hello" }}'));
  });

  it('random functions follow the injected source; the clock is injectable', () => {
    const seeded = () => {
      let x = 42;
      return () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    };
    const t = '{{ randAlphaNum 16 }} {{ randNumeric 4 }} {{ uuidv4 }} {{ shuffle "abcdef" }} {{ randInt 10 20 }}';
    const a = render(t, null, helmFuncMap({ random: seeded() }));
    assert.equal(a, render(t, null, helmFuncMap({ random: seeded() })));
    assert.match(a, /^[A-Za-z0-9]{16} \d{4} [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} [a-f]{6} 1\d$/);
    const fixed = helmFuncMap({ now: () => new Date('2024-02-29T12:00:00Z') });
    assert.equal(render('{{ dateInZone "2006-01-02 15:04" now "UTC" }} {{ ago (toDate "2006-01-02" "2024-02-28") }} {{ durationRound (toDate "2006-01-02" "2024-01-01") }}', null, fixed), '2024-02-29 12:00 36h0m0s 1mo');
  });
});

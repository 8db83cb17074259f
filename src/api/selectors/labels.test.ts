import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors.js';
import {
  formatLabelSelector,
  fromLabelSelector,
  labelSelectorMatches,
  newRequirement,
  parseLabelSelector,
  selectorFromSet,
  selectorToString,
} from './labels.js';

describe('parseLabelSelector: valid selectors and their canonical form', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['   ', ''],
    ['x=a', 'x=a'],
    ['y=b,x=a', 'x=a,y=b'],
    ['x==a', 'x==a'],
    ['x!=a', 'x!=a'],
    ['x=', 'x='],
    ['x= ,z= ', 'x=,z='],
    ['x', 'x'],
    ['!x', '!x'],
    [' !x , y ', '!x,y'],
    ['x>1', 'x>1'],
    ['x<5,z>10', 'x<5,z>10'],
    ['x in (b,a)', 'x in (a,b)'],
    ['x in (a,a)', 'x in (a)'],
    ['x notin (z)', 'x notin (z)'],
    ['x in ()', 'x in ()'],
    ['x in (,a)', 'x in (,a)'],
    ['x in (a,)', 'x in (,a)'],
    ['in in (in),notin notin (notin)', 'in in (in),notin notin (notin)'],
    ['a=b,c!=d,e in (x,y),f notin (z),g,!h', 'a=b,c!=d,e in (x,y),f notin (z),g,!h'],
    ['example.com/app=web,app.kubernetes.io/name=db', 'app.kubernetes.io/name=db,example.com/app=web'],
    ['kubernetes.io/service-name=my-svc', 'kubernetes.io/service-name=my-svc'],
  ];
  for (const [input, canonical] of cases) {
    it(JSON.stringify(input), () => assert.equal(parseLabelSelector(input).toString(), canonical));
  }
});

describe('parseLabelSelector: errors are kube\'s, as 400 BadRequest', () => {
  const nameRule =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  const valueRule =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  const cases: [string, string][] = [
    ['x==a==b', "found '==', expected: ',' or 'end of string'"],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    [',x', "found ',', expected: !, identifier, or 'end of string'"],
    ['x,', "found '', expected: identifier after ','"],
    ['x in a', "unable to parse requirement: found 'a' expected: '('"],
    ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['x in (a b)', "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ['x in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['x=(', "unable to parse requirement: found '(', expected: identifier"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['-x=a', `unable to parse requirement: <nil>: Invalid value: "-x": ${nameRule}`],
    ['x=a||y', `unable to parse requirement: values[0][x]: Invalid value: "a||y": ${valueRule}`],
    ['x>a', "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"],
  ];
  for (const [input, message] of cases) {
    it(JSON.stringify(input), () => {
      assert.throws(
        () => parseLabelSelector(input),
        (e: unknown) => {
          assert.ok(e instanceof ApiError);
          assert.equal(e.code, 400);
          assert.equal(e.reason, 'BadRequest');
          assert.equal(e.message, message);
          return true;
        },
      );
    });
  }
});

describe('LabelSelector.matches', () => {
  const labels = { app: 'web', tier: 'fe', n: '5', empty: '' };
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['missing=x', false],
    ['app in (db,web)', true],
    ['app in (db)', false],
    ['missing in (x)', false],
    ['app notin (db)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['missing', false],
    ['!app', false],
    ['!missing', true],
    ['empty=', true],
    ['empty', true],
    ['n>4', true],
    ['n>5', false],
    ['n<6', true],
    ['app>1', false],
    ['missing<1', false],
    ['app=web,tier=fe', true],
    ['app=web,tier=be', false],
  ];
  for (const [sel, want] of cases) {
    it(`${JSON.stringify(sel)} → ${want}`, () => assert.equal(parseLabelSelector(sel).matches(labels), want));
  }

  it('objects without labels', () => {
    assert.equal(parseLabelSelector('!a').matches(undefined), true);
    assert.equal(parseLabelSelector('a').matches(null), false);
  });

  it('RequiresExactMatch', () => {
    const s = parseLabelSelector('app=web,tier in (fe),x in (a,b),y!=z');
    assert.equal(s.requiresExactMatch('app'), 'web');
    assert.equal(s.requiresExactMatch('tier'), 'fe');
    assert.equal(s.requiresExactMatch('x'), undefined);
    assert.equal(s.requiresExactMatch('y'), undefined);
  });
});

describe('LabelSelector objects', () => {
  it('renders like kube: matchLabels then expressions, sorted by key', () => {
    const sel = { matchLabels: { app: 'nginx' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] };
    assert.equal(selectorToString(sel), 'app=nginx,tier in (web)');
    assert.equal(
      selectorToString({
        matchLabels: { z: '1' },
        matchExpressions: [
          { key: 'b', operator: 'NotIn', values: ['y', 'x'] },
          { key: 'a', operator: 'Exists' },
          { key: 'c', operator: 'DoesNotExist' },
        ],
      }),
      'a,b notin (x,y),!c,z=1',
    );
  });

  it('null selects nothing, {} selects everything', () => {
    assert.equal(labelSelectorMatches(null, { a: 'b' }), false);
    assert.equal(labelSelectorMatches({}, { a: 'b' }), true);
    assert.equal(labelSelectorMatches({ matchLabels: {} }, {}), true);
    assert.equal(fromLabelSelector(undefined).matches({}), false);
  });

  it('matches labels', () => {
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] };
    assert.equal(labelSelectorMatches(sel, { app: 'web', env: 'dev' }), true);
    assert.equal(labelSelectorMatches(sel, { app: 'web', env: 'prod' }), false);
    assert.equal(labelSelectorMatches(sel, { app: 'db' }), false);
  });

  it('formats for describe', () => {
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(formatLabelSelector({ matchLabels: { app: 'web' } }), 'app=web');
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }), '<error>');
  });

  it('rejects bad operators and values', () => {
    assert.throws(
      () => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }),
      (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === '"Gt" is not a valid label selector operator',
    );
    assert.throws(
      () => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
      (e: unknown) =>
        e instanceof ApiError && e.message === "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
    );
    assert.throws(
      () => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
      (e: unknown) =>
        e instanceof ApiError && e.message === 'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
    );
    assert.throws(
      () => fromLabelSelector({ matchLabels: { 'bad key!': 'v' } }),
      (e: unknown) => e instanceof ApiError && e.message.startsWith('key: Invalid value: "bad key!": name part must consist'),
    );
  });

  it('selectorFromSet and newRequirement', () => {
    assert.equal(selectorFromSet({ b: '2', a: '1' }).toString(), 'a=1,b=2');
    assert.equal(selectorFromSet(undefined).empty(), true);
    assert.deepEqual(newRequirement('a', 'in', ['x']), { key: 'a', operator: 'in', values: ['x'] });
    assert.throws(() => newRequirement('a', '=', ['x', 'y']), /exact-match compatibility requires one single value/);
  });
});

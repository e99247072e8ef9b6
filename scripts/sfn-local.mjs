#!/usr/bin/env node
// sfn-local.mjs runs a rendered Step Functions definition (JSONPath ASL) once
// with aws-local-stepfunctions, sending each Task state to a Lambda endpoint:
// the Runtime Interface Emulator (RIE) of a real function, or a fake.
//
// Usage:
//   node scripts/sfn-local.mjs --definition rendered.asl.json
//        (--input '<json>' | --input-file input.json)
//        [--task State=URL]...          (or FL2NF_SFN_TASKS='{"State":"URL",...}')
//        [--execution-name NAME] [--real-retry] [--events] [--concurrent State]...
//
// URL is an RIE base (http://127.0.0.1:9001) or a full invocation URL
// (.../2015-03-31/functions/function/invocations). Every Task state of the
// definition needs one; for flowlogs2netflow these are Plan, ParseChunk,
// Reserve and SendChunk (statemachine.TaskStates).
//
// Output: one JSON line on stdout,
//   {"status":"SUCCEEDED","output":...}  exit 0
//   {"status":"FAILED","error":"...","cause":"..."}  exit 1
// with "events": [...] (the execution's event log) when --events is given.
// Usage or runner errors exit 2.
//
// Behaviour that mimics Step Functions:
//   - A function error (RIE answers HTTP 200 with {"errorType","errorMessage"}
//     and no X-Amz-Function-Error header) becomes a task failure whose Error
//     is errorType and whose Cause is the error body as a JSON string.
//   - A non-200 answer fails with Lambda.ServiceException, an unreachable
//     endpoint with Lambda.SdkClientException (both retried by the ASL).
//   - The context object has Execution.Id/Name/Input/StartTime and
//     StateMachine.Id/Name.
//   - Once a Map iteration (or Parallel branch) fails, no further one
//     starts (aws-local-stepfunctions would start those still queued).
// And what it does not: Retry waits are 0 ms unless --real-retry; calls to
// one endpoint are serialized (the default-mode RIE crashes on concurrent
// invokes), so a Map's MaxConcurrency is honoured only across endpoints,
// except for the Task states named with --concurrent, whose calls go out as
// the Maps issue them (for endpoints that take concurrent invocations, such
// as the test fakes; not a default-mode RIE).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';

// aws-local-stepfunctions 3.0.0 needs Node 22's Promise.withResolvers.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const require = createRequire(new URL('./node/package.json', import.meta.url));

// aws-local-stepfunctions 3.0.0 runs Map iterations (and Parallel branches)
// through p-limit. When one fails, the state fails, but the iterations still
// queued in p-limit start anyway, later (it aborts only those already
// running). Step Functions starts no further iteration once a Map has
// failed, and flowlogs2netflow relies on it: a receiver's stream must stop at
// a failed chunk. So every limiter drops its queue when one of its jobs
// fails. (Patched in the module cache before aws-local-stepfunctions loads.)
{
  const alsRequire = createRequire(require.resolve('aws-local-stepfunctions'));
  const pLimitPath = alsRequire.resolve('p-limit');
  const pLimit = alsRequire(pLimitPath);
  const stopOnFailure = (concurrency) => {
    const limit = pLimit(concurrency);
    const wrapped = (fn, ...args) => limit(async () => {
      try {
        return await fn(...args);
      } catch (e) {
        limit.clearQueue();
        throw e;
      }
    });
    Object.defineProperties(wrapped, {
      activeCount: { get: () => limit.activeCount },
      pendingCount: { get: () => limit.pendingCount },
      clearQueue: { value: () => limit.clearQueue() },
    });
    return wrapped;
  };
  alsRequire.cache[pLimitPath].exports = stopOnFailure;
}

const { StateMachine } = require('aws-local-stepfunctions');

function usage(msg) {
  process.stderr.write(`sfn-local: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { tasks: {}, realRetry: false, events: false, concurrent: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--definition': o.definition = next(); break;
      case '--input': o.input = next(); break;
      case '--input-file': o.input = readFileSync(next(), 'utf8'); break;
      case '--execution-name': o.name = next(); break;
      case '--real-retry': o.realRetry = true; break;
      case '--events': o.events = true; break;
      case '--concurrent': o.concurrent.add(next()); break;
      case '--task': {
        const v = next();
        const eq = v.indexOf('=');
        if (eq < 1) usage(`--task wants State=URL, got ${v}`);
        o.tasks[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      default: usage(`unknown argument ${a}`);
    }
  }
  if (process.env.FL2NF_SFN_TASKS) {
    try {
      o.tasks = { ...JSON.parse(process.env.FL2NF_SFN_TASKS), ...o.tasks };
    } catch (e) {
      usage(`FL2NF_SFN_TASKS is not JSON: ${e.message}`);
    }
  }
  if (!o.definition) usage('--definition is required');
  if (o.input === undefined) usage('--input or --input-file is required');
  return o;
}

// Walk the definition (Map processors included) for states of a type.
function statesOf(def, type, out = []) {
  for (const [name, st] of Object.entries(def.States ?? {})) {
    if (st.Type === type) out.push([name, st]);
    const proc = st.ItemProcessor ?? st.Iterator;
    if (proc) statesOf(proc, type, out);
    for (const b of st.Branches ?? []) statesOf(b, type, out);
  }
  return out;
}

function invocationURL(u) {
  return /\/invocations\/?$/.test(u) ? u : u.replace(/\/+$/, '') + '/2015-03-31/functions/function/invocations';
}

function namedError(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

// One promise chain per endpoint: calls to it never overlap.
const chains = new Map();
function serialized(url, fn) {
  const prev = chains.get(url) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  chains.set(url, run.catch(() => {}));
  return run;
}

async function invoke(url, input) {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
  } catch (e) {
    throw namedError('Lambda.SdkClientException', `invoke ${url}: ${e.cause?.message ?? e.message}`);
  }
  const text = await res.text();
  if (res.status !== 200) {
    throw namedError('Lambda.ServiceException', `invoke ${url}: HTTP ${res.status}: ${text}`);
  }
  let body;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch (e) {
    throw namedError('Lambda.ServiceException', `invoke ${url}: response is not JSON: ${text.slice(0, 200)}`);
  }
  const fnError = res.headers.get('x-amz-function-error');
  const looksLikeError = body !== null && typeof body === 'object' && !Array.isArray(body) &&
    typeof body.errorType === 'string' && typeof body.errorMessage === 'string';
  if (fnError || looksLikeError) {
    throw namedError(body?.errorType ?? 'Lambda.Unknown', JSON.stringify(body));
  }
  return body;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const definition = JSON.parse(readFileSync(o.definition, 'utf8'));
  const input = JSON.parse(o.input);

  const handlers = {};
  const retryOverrides = {};
  for (const [name, st] of statesOf(definition, 'Task')) {
    const url = o.tasks[name];
    if (!url) usage(`no endpoint for Task state ${name} (pass --task ${name}=URL)`);
    const full = invocationURL(url);
    handlers[name] = o.concurrent.has(name)
      ? (taskInput) => invoke(full, taskInput)
      : (taskInput) => serialized(full, () => invoke(full, taskInput));
    if (!o.realRetry && st.Retry) retryOverrides[name] = 0;
  }
  for (const name of o.concurrent) {
    if (!handlers[name]) usage(`--concurrent ${name}: not a Task state of the definition`);
  }
  for (const type of ['Map', 'Parallel']) {
    for (const [name, st] of statesOf(definition, type)) {
      if (!o.realRetry && st.Retry) retryOverrides[name] = 0;
    }
  }

  const name = o.name ?? randomUUID();
  const smName = 'flowlogs2netflow';
  const context = {
    Execution: {
      Id: `arn:aws:states:us-east-1:123456789012:execution:${smName}:${name}`,
      Name: name,
      StartTime: new Date().toISOString(),
      RoleArn: 'arn:aws:iam::123456789012:role/local',
    },
    StateMachine: { Id: `arn:aws:states:us-east-1:123456789012:stateMachine:${smName}`, Name: smName },
  };

  const sm = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = sm.run(input, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retryOverrides },
    context,
  });
  const events = [];
  const collecting = (async () => {
    for await (const ev of execution.eventLogs) events.push(ev);
  })();

  let out;
  let code;
  try {
    const output = await execution.result;
    out = { status: 'SUCCEEDED', output };
    code = 0;
  } catch (e) {
    // A Fail state surfaces as ExecutionError{cause: FailStateError{name: Error, message: Cause}}.
    const c = e?.cause ?? e;
    out = { status: 'FAILED', error: c?.name ?? 'Error', cause: c?.message ?? String(e) };
    code = 1;
  }
  if (o.events) {
    await Promise.race([collecting, new Promise((r) => setTimeout(r, 100))]);
    out.events = events;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exitCode = code;
}

main().catch((e) => {
  process.stderr.write(`sfn-local: ${e?.stack ?? e}\n`);
  process.exit(2);
});

// The step protocol of tests/src/sdk_process.rs: `{"begin": name}`, wait for a line on stdin, run
// the step, print `{"step": name, "ok": true, "values": {...}}` or `{"step": name, "ok": false,
// "error": {...}}`. Values and errors never carry a secret.
const readline = require('node:readline');

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function print(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

/** What the test sees of an error the SDK raised. */
function describe(error) {
  return {
    class: error && error.constructor ? error.constructor.name : typeof error,
    message: error && error.message !== undefined ? String(error.message) : String(error),
    status: error && error.statusCode !== undefined ? error.statusCode : null,
    code: error && error.errorCode !== undefined ? error.errorCode : null,
  };
}

/** Runs `body` as step `name` once the test said go; a thrown error is the step's failure. */
async function step(name, body) {
  print({ begin: name });
  const go = await lines.next();
  if (go.done) {
    process.stderr.write(`stdin closed before step ${name}\n`);
    process.exit(2);
  }
  try {
    print({ step: name, ok: true, values: (await body()) || {} });
  } catch (error) {
    print({ step: name, ok: false, error: describe(error) });
  }
}

/** The environment variable `name`, which the test must set. */
function required(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

module.exports = { step, required };

// flowlog-to-parquet writes a flow-log text file (header line first, plain
// or gzip) as Parquet the way AWS delivers it, with an implementation
// independent of the Go reader (@dsnp/parquetjs), for the tests:
//
//   node flowlog-to-parquet.mjs IN OUT [ROWS_PER_ROW_GROUP]
//
// Schema (docs/formats-facts.md): the column names of Athena's DDL for
// Parquet flow logs (the field names with underscores), INT_32 for version,
// ports, tcp-flags and traffic-path, INT_64 for protocol, packets, bytes,
// start, end and packets-lost-*, STRING otherwise; every column optional
// (a "-" value is a null); GZIP page compression. Prints the rows written.
import fs from 'node:fs';
import readline from 'node:readline';
import zlib from 'node:zlib';
import parquet from '@dsnp/parquetjs';

const [input, output, groupArg] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node flowlog-to-parquet.mjs IN OUT [ROWS_PER_ROW_GROUP]');
  process.exit(2);
}
const rowsPerGroup = Number(groupArg || 100000);

const int32 = new Set(['version', 'srcport', 'dstport', 'tcp-flags', 'traffic-path', 'pkt-srcport', 'pkt-dstport']);
const int64 = new Set(['protocol', 'packets', 'bytes', 'start', 'end', 'packets-lost-no-route', 'packets-lost-blackhole', 'packets-lost-mtu-exceeded', 'packets-lost-ttl-expired']);

function typeOf(name) {
  if (int32.has(name)) return 'INT_32';
  if (int64.has(name)) return 'INT_64';
  return 'UTF8';
}

let stream = fs.createReadStream(input);
const magic = fs.readFileSync(input).subarray(0, 2);
if (magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b) stream = stream.pipe(zlib.createGunzip());
const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });

let fields = null;
let writer = null;
let rows = 0;
for await (const line of rl) {
  if (fields === null) {
    fields = line.trim().split(/\s+/);
    const def = {};
    for (const f of fields) def[f.replaceAll('-', '_')] = { type: typeOf(f), optional: true, compression: 'GZIP' };
    writer = await parquet.ParquetWriter.openFile(new parquet.ParquetSchema(def), output);
    writer.setRowGroupSize(rowsPerGroup);
    continue;
  }
  if (line.trim() === '') continue;
  const vals = line.trim().split(/\s+/);
  const row = {};
  fields.forEach((f, i) => {
    const v = vals[i];
    if (v === undefined || v === '-') return;
    const t = typeOf(f);
    row[f.replaceAll('-', '_')] = t === 'UTF8' ? v : (t === 'INT_64' ? BigInt(v) : Number(v));
  });
  await writer.appendRow(row);
  rows++;
}
if (writer === null) {
  console.error(`${input}: no header line`);
  process.exit(1);
}
await writer.close();
console.log(rows);

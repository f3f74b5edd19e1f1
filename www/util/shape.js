// The shape of one input row, as the engine reports it in a model's info
// ({type: 'image', channels, height, width} | {type: 'vector', features} |
// {type: 'series', channels, length}). Pure: no DOM.

/** Values in one row of `shape`. */
export function rowSize(shape) {
  switch (shape?.type) {
    case 'image':
      return shape.channels * shape.height * shape.width;
    case 'vector':
      return shape.features;
    case 'series':
      return shape.channels * shape.length;
    default:
      throw new Error(`not an input shape: ${JSON.stringify(shape)?.slice(0, 80)}`);
  }
}

/** The digits' shape: the pad draws it, and the views made for 28 × 28 images need it. */
export const DIGIT_SHAPE = Object.freeze({ type: 'image', channels: 1, height: 28, width: 28 });

/** Whether rows of `shape` are one-channel images of the digits' size (the pad draws those). */
export const isDigitShaped = (shape) =>
  shape?.type === 'image' && shape.channels === 1 && shape.height === DIGIT_SHAPE.height && shape.width === DIGIT_SHAPE.width;

/** A short description of one row for a learner: "28 × 28 image", "row of 9 features", … */
export function describeShape(shape) {
  switch (shape?.type) {
    case 'image':
      return `${shape.height} × ${shape.width} image${shape.channels > 1 ? ` (${shape.channels} channels)` : ''}`;
    case 'vector':
      return `table row of ${shape.features} features`;
    case 'series':
      return `window of ${shape.length} time steps${shape.channels > 1 ? ` × ${shape.channels} channels` : ''}`;
    default:
      return 'row';
  }
}

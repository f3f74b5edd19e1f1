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

/** Analysis tools: cost model, profiler, roofline metrics, peaks and SVG figures (browser-safe). */
export * from './cost_model.js';
export * from './kernel_trace.js';
export * from './profiler.js';
export * from './roofline.js';
export * from './peaks.js';
export { measureDevicePeaks } from './microbench.js';
export type { DevicePeakOptions } from './microbench.js';
export { measureWebGLPeaks } from './webgl_microbench.js';
export type { WebGLPeakOptions, WebGLPeaks } from './webgl_microbench.js';
export * from './analyze.js';
export { efficiencyGapSvg } from './svg/efficiency_gap.js';
export { waterlineSvg } from './svg/waterline.js';
export { rooflineSvg } from './svg/roofline.js';
export type { FigureKernel, FigureModel } from './svg/common.js';

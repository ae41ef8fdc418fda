/** FusedLayerNorm as a tfjs-backend-webgpu program: inputs x, gamma, beta; one workgroup per R rows. */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { type LayerNormPlan, layerNormShaderKey, layerNormShaderSource } from './layer_norm_wgsl.js';

export class LayerNormProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ['x', 'gamma', 'beta'];
  variableComponents: number[];
  outputComponent: number;
  workgroupSize: [number, number, number];
  // uniforms.size (in units of outputComponent) gives the row count without baking the batch into the shader.
  size = true;

  constructor(private readonly plan: LayerNormPlan, private readonly epsilon: number, xShape: readonly number[]) {
    this.outputShape = [...xShape];
    this.dispatchLayout = { x: xShape.map((_, i) => i) };
    const rows = xShape.slice(0, -1).reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(rows / plan.rowsPerWorkgroup), 1, 1];
    this.workgroupSize = [plan.workgroupSize, 1, 1];
    this.variableComponents = [plan.components, plan.components, plan.components];
    this.outputComponent = plan.components;
    this.shaderKey = layerNormShaderKey(plan, epsilon);
  }

  getUserCode(): string {
    return layerNormShaderSource(this.plan, this.epsilon);
  }
}

/** FusedClassifierHead as a tfjs-backend-webgpu program: inputs x, gamma, beta, weight, bias; output [N, K]. */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { type ClassifierHeadPlan, classifierHeadShaderKey, classifierHeadShaderSource } from './classifier_head_wgsl.js';

export class ClassifierHeadProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ['x', 'gamma', 'beta', 'weight', 'bias'];
  variableComponents: number[];
  outputComponent: number;
  workgroupSize: [number, number, number];

  constructor(private readonly plan: ClassifierHeadPlan, private readonly epsilon: number) {
    this.outputShape = [plan.n, plan.k];
    this.dispatchLayout = { x: [0, 1] };
    // 1-D (the shader linearizes it): tfjs reshapes only an x dispatch past the device limit, and drops y then.
    this.dispatch = [plan.rowGroups * plan.columnSlices, 1, 1];
    this.workgroupSize = [plan.workgroupSize, 1, 1];
    this.variableComponents = [1, 1, 1, plan.components, plan.components];
    this.outputComponent = plan.components;
    this.shaderKey = classifierHeadShaderKey(plan, epsilon);
  }

  getUserCode(): string {
    return classifierHeadShaderSource(this.plan, this.epsilon);
  }
}

/**
 * Uploads model inputs to the webgpu backend through staging buffers that stay allocated and mapped between
 * inferences. tfjs's own upload of a CPU tensor creates a fresh mapped buffer for every upload and destroys it
 * after the copy: for a 224x224 batch of 32 (19 MB) that allocation (fresh, zero-filled pages) costs more than
 * the copy itself (measured in bench:models, BENCHMARKS.md "Where the wall time goes"). Here each upload is one
 * memcpy into already-mapped memory plus GPU-side copies; the staging buffer is re-mapped in the background
 * right after its copy is submitted, so it is ready for the next inference.
 *
 *   const uploader = new WebGPUInputUploader();
 *   const x = uploader.upload(pixels, [32, 224, 224, 3]);   // a tf.Tensor on the webgpu backend
 *   const y = model.predict(x); ... x.dispose();
 *   uploader.dispose();                                     // when done with it
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

interface Staging { buffer: GPUBuffer; ready: boolean }

/** Staging buffers per size: enough for uploads issued before the previous copy finished. */
const MAX_STAGING = 3;

export class WebGPUInputUploader {
  private readonly device: GPUDevice;
  private staging: Staging[] = [];
  private target: GPUBuffer | null = null;
  private disposed = false;

  /** `backend` defaults to the active backend, which must be webgpu. */
  constructor(backend: tf.KernelBackend = tf.backend()) {
    const device = (backend as Partial<WebGPUBackend>).device;
    if (device == null) {
      // Name the backend it was given (the active one by default), not merely the active one.
      const given = backend === tf.backend() ? tf.getBackend() : backend?.constructor?.name ?? String(backend);
      throw new Error(`WebGPUInputUploader needs the webgpu backend (given: ${given})`);
    }
    this.device = device;
  }

  /** A float32 tensor of `shape` holding `values`, resident on the GPU. */
  upload(values: Float32Array, shape: number[]): tf.Tensor {
    if (this.disposed) throw new Error('WebGPUInputUploader: upload() after dispose()');
    // The staging copy is element-wise when a buffer is free and byte-wise otherwise: only float32 data means the
    // same in both, so other arrays are refused rather than read differently from one upload to the next.
    if (!(values instanceof Float32Array)) {
      const kind = values == null ? String(values) : (values as object).constructor?.name ?? typeof values;
      throw new Error(`WebGPUInputUploader: values must be a Float32Array, got ${kind} (convert with Float32Array.from)`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`WebGPUInputUploader: shape must be non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const size = tf.util.sizeFromShape(shape);
    if (values.length !== size) {
      throw new Error(`WebGPUInputUploader: ${values.length} values do not fill shape [${shape}] (${size} elements)`);
    }
    // Nothing to stage (a GPU buffer cannot be empty): an empty tensor, as tf.tensor makes it.
    if (size === 0) return tf.tensor(values, shape, 'float32');
    const bytes = Math.max(4, Math.ceil(values.byteLength / 4) * 4);
    if (this.target == null || this.target.size !== bytes) this.resize(bytes);
    const staging = this.readyStaging(bytes);
    const encoder = this.device.createCommandEncoder();
    if (staging != null) {
      new Float32Array(staging.buffer.getMappedRange(), 0, size).set(values);
      staging.buffer.unmap();
      staging.ready = false;
      encoder.copyBufferToBuffer(staging.buffer, 0, this.target!, 0, bytes);
      this.device.queue.submit([encoder.finish()]);
      staging.buffer.mapAsync(GPUMapMode.WRITE).then(() => { staging.ready = true; }, () => { /* destroyed */ });
    } else {
      // Every staging buffer is still in flight: let the queue stage this one.
      this.device.queue.writeBuffer(this.target!, 0, values.buffer, values.byteOffset, values.byteLength);
    }
    // tfjs copies the buffer into one it owns (and submits), so the next upload may overwrite `target`.
    return tf.tensor({ buffer: this.target! }, shape, 'float32');
  }

  dispose(): void {
    this.disposed = true;
    for (const s of this.staging) s.buffer.destroy();
    this.staging = [];
    this.target?.destroy();
    this.target = null;
  }

  private resize(bytes: number): void {
    for (const s of this.staging) s.buffer.destroy();
    this.target?.destroy();
    this.target = this.device.createBuffer({
      size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.staging = [this.newStaging(bytes)];
  }

  private newStaging(bytes: number): Staging {
    return { buffer: this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC,
      mappedAtCreation: true }), ready: true };
  }

  private readyStaging(bytes: number): Staging | null {
    const ready = this.staging.find((s) => s.ready);
    if (ready != null) return ready;
    if (this.staging.length >= MAX_STAGING) return null;
    const s = this.newStaging(bytes);
    this.staging.push(s);
    return s;
  }
}

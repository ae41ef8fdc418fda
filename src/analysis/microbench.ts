/**
 * Device microbenchmarks: the WGSL fp32 FMA peak and the device-memory copy bandwidth, the two numbers
 * that every roofline in this project is measured against. Timed with timestamp queries when the device
 * has `timestamp-query`, else with wall time around `onSubmittedWorkDone` (which includes submit overhead,
 * so it under-reports the peak a little).
 */

export interface DevicePeakOptions {
  /** FMA loop iterations per thread (each iteration is 8 independent vec4 FMAs). */
  fmaIterations?: number;
  /** Workgroups of 256 threads in the FMA kernel; enough to fill every SM several times. */
  fmaWorkgroups?: number;
  /** Bytes in the copy source (the copy moves twice this: read + write). */
  copyBytes?: number;
  /** Timed repetitions; the best is reported. */
  repeats?: number;
}

export interface DevicePeaks {
  /** Achieved fp32 TFLOP/s of vec4 fma chains (2 FLOPs per fma lane). */
  fmaTflops: number;
  /** Achieved copy bandwidth in GB/s, counting bytes read + bytes written. */
  copyGBps: number;
  /** 'timestamp' or 'wall': how the kernels were timed. */
  timing: 'timestamp' | 'wall';
}

const FMA_CHAINS = 8;
const FMA_WORKGROUP = 256;

function fmaShader(iterations: number): string {
  const decl = Array.from({ length: FMA_CHAINS }, (_, i) =>
    `var a${i} = vec4<f32>(f32(gid.x) * 1e-9 + ${i}.0 * 1e-3, 0.5, 0.25, 0.125);`).join('\n  ');
  const body = Array.from({ length: FMA_CHAINS }, (_, i) => `a${i} = fma(a${i}, m, c);`).join('\n    ');
  const sum = Array.from({ length: FMA_CHAINS }, (_, i) => `a${i}`).join(' + ');
  // m and c come from a buffer so the compiler cannot fold the chain; the sum is stored so it is kept.
  return `
@group(0) @binding(0) var<storage, read> params: array<vec4<f32>, 2>;
@group(0) @binding(1) var<storage, read_write> sink: array<vec4<f32>>;
@compute @workgroup_size(${FMA_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m = params[0];
  let c = params[1];
  ${decl}
  for (var i = 0u; i < ${iterations}u; i++) {
    ${body}
  }
  sink[gid.x] = ${sum};
}`;
}

const COPY_SHADER = `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < arrayLength(&src); i += stride) {
    dst[i] = src[i];
  }
}`;

/** Runs one dispatch `repeats` times and returns the best time in ms. */
export async function timeDispatch(device: GPUDevice, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup,
  workgroups: number, repeats: number): Promise<{ ms: number; timing: 'timestamp' | 'wall' }> {
  const useTimestamps = device.features.has('timestamp-query');
  let best = Infinity;
  const querySet = useTimestamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : null;
  const resolve = useTimestamps ? device.createBuffer({ size: 16,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : null;
  const read = useTimestamps ? device.createBuffer({ size: 16,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) : null;
  try {
    // One untimed warm-up run (pipeline creation, clocks ramping), then the timed ones.
    for (let r = 0; r <= repeats; r++) {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass(querySet ? {
        timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
      } : {});
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(workgroups);
      pass.end();
      if (querySet && resolve && read) {
        encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
        encoder.copyBufferToBuffer(resolve, 0, read, 0, 16);
      }
      const t0 = performance.now();
      device.queue.submit([encoder.finish()]);
      let ms: number;
      if (read) {
        await read.mapAsync(GPUMapMode.READ);
        const ts = new BigUint64Array(read.getMappedRange().slice(0));
        read.unmap();
        ms = Number(ts[1] - ts[0]) / 1e6;
      } else {
        await device.queue.onSubmittedWorkDone();
        ms = performance.now() - t0;
      }
      if (r > 0 && ms > 0) best = Math.min(best, ms);
    }
  } finally {
    querySet?.destroy();
    resolve?.destroy();
    read?.destroy();
  }
  return { ms: best, timing: useTimestamps ? 'timestamp' : 'wall' };
}

/** Measures the device's fp32 FMA peak and copy bandwidth (see the module comment for the method). */
export async function measureDevicePeaks(device: GPUDevice, opts: DevicePeakOptions = {}): Promise<DevicePeaks> {
  const iterations = opts.fmaIterations ?? 4096;
  const workgroups = opts.fmaWorkgroups ?? 4096;
  const copyBytes = opts.copyBytes ?? 256 * 1024 * 1024;
  const repeats = opts.repeats ?? 5;

  const params = device.createBuffer({ size: 32, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(params, 0, new Float32Array([0.999, 0.999, 0.999, 0.999, 1e-3, 1e-3, 1e-3, 1e-3]));
  const sink = device.createBuffer({ size: workgroups * FMA_WORKGROUP * 16, usage: GPUBufferUsage.STORAGE });
  const fmaPipeline = device.createComputePipeline({ layout: 'auto',
    compute: { module: device.createShaderModule({ code: fmaShader(iterations) }), entryPoint: 'main' } });
  const fmaGroup = device.createBindGroup({ layout: fmaPipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: params } }, { binding: 1, resource: { buffer: sink } }] });

  const bytes = Math.min(copyBytes, device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const size = Math.floor(bytes / 16) * 16;
  const src = device.createBuffer({ size, usage: GPUBufferUsage.STORAGE });
  const dst = device.createBuffer({ size, usage: GPUBufferUsage.STORAGE });
  const copyPipeline = device.createComputePipeline({ layout: 'auto',
    compute: { module: device.createShaderModule({ code: COPY_SHADER }), entryPoint: 'main' } });
  const copyGroup = device.createBindGroup({ layout: copyPipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }] });
  try {
    const fma = await timeDispatch(device, fmaPipeline, fmaGroup, workgroups, repeats);
    const flops = workgroups * FMA_WORKGROUP * iterations * FMA_CHAINS * 4 * 2;
    const copyWorkgroups = Math.min(device.limits.maxComputeWorkgroupsPerDimension, Math.ceil(size / 16 / 256 / 4));
    const copy = await timeDispatch(device, copyPipeline, copyGroup, copyWorkgroups, repeats);
    return {
      fmaTflops: flops / (fma.ms * 1e-3) / 1e12,
      copyGBps: (2 * size) / (copy.ms * 1e-3) / 1e9,
      timing: fma.timing,
    };
  } finally {
    for (const b of [params, sink, src, dst]) b.destroy();
  }
}

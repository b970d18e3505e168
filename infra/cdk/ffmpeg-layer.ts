// The ffmpeg + ffprobe Lambda layer. The binaries come from npm packages (no download at synth time):
// layers/ffmpeg/build.ts copies them into layers/ffmpeg/build/bin, which the layer mounts at /opt/bin.
import { Architecture, Code, LayerVersion, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { buildFfmpegLayer } from '../../layers/ffmpeg/build.ts';
import type { Topology } from '../topology.ts';
import { lambdaRuntime } from './names.ts';

export type LayerName = Topology['functions'][number]['layers'][number];

/** Environment each layer adds to the functions that use it. */
export const LAYER_ENVIRONMENT: Record<LayerName, Record<string, string>> = {
  ffmpeg: { FFMPEG_PATH: '/opt/bin/ffmpeg', FFPROBE_PATH: '/opt/bin/ffprobe' },
};

export class FfmpegLayer extends Construct {
  readonly layer: ILayerVersion;

  constructor(scope: Construct, id: string, props: { topology: Topology }) {
    super(scope, id);
    this.layer = new LayerVersion(this, 'Layer', {
      description: 'ffmpeg and ffprobe (linux-x64 static builds from @ffmpeg-installer / @ffprobe-installer) in /opt/bin',
      code: Code.fromAsset(buildFfmpegLayer()),
      compatibleRuntimes: [lambdaRuntime(props.topology)],
      compatibleArchitectures: [Architecture.X86_64],
      license: 'GPL-3.0-or-later',
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}

/** Builds each layer the topology's functions declare, once. */
export function buildLayers(scope: Construct, topology: Topology): Map<LayerName, ILayerVersion> {
  const factories: Record<LayerName, () => ILayerVersion> = {
    ffmpeg: () => new FfmpegLayer(scope, 'FfmpegLayer', { topology }).layer,
  };
  const layers = new Map<LayerName, ILayerVersion>();
  for (const name of new Set(topology.functions.flatMap((f) => f.layers))) layers.set(name, factories[name]());
  return layers;
}

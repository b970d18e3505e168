// CloudFront in front of part of a bucket (the topology's `cdns`): the distribution reads only the objects under
// the CDN's prefix (origin access control, a bucket-policy statement naming the distribution) and serves them only
// to URLs signed with the CDN's own key pair. The key pair is made at deploy time by a small custom resource, which
// keeps the private key in a secret of this stack and answers the public key CloudFront trusts: a deploy from zero
// needs no manual step. It lives in the foundation beside the bucket, whose policy names the distribution.
import { Aws, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods, CachedMethods, CachePolicy, CacheCookieBehavior, CacheHeaderBehavior, CacheQueryStringBehavior, Distribution, HttpVersion,
  KeyGroup, type OriginBindConfig, type OriginBindOptions, PriceClass, PublicKey, ResponseHeadersPolicy, S3OriginAccessControl, Signing,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { secretName, type CdnDef } from '../topology.ts';
import { logRetention, pascal, type Deployment } from './names.ts';

/**
 * The key pair's custom resource (Node's own crypto and the runtime's SDK, no bundle): on create, a new RSA 2048 key
 * pair whose private key goes into the secret; on update, the public key of the key the secret already holds (a
 * CloudFront public key cannot change), or a new pair if it holds none. Answers the public key (PEM).
 */
export const KEY_PAIR_HANDLER = `
const { createPrivateKey, createPublicKey, generateKeyPairSync } = require('node:crypto');
const { SecretsManagerClient, GetSecretValueCommand, PutSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
const secrets = new SecretsManagerClient({});
const PEM = { type: 'spki', format: 'pem' };
async function heldKey(secretId) {
  try {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    return createPrivateKey(out.SecretString);
  } catch {
    return undefined;
  }
}
exports.handler = async (event) => {
  const secretId = event.ResourceProperties.SecretId;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const held = event.RequestType === 'Update' ? await heldKey(secretId) : undefined;
  if (held) return { PhysicalResourceId: secretId, Data: { PublicKey: createPublicKey(held).export(PEM) } };
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: PEM, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: pair.privateKey }));
  return { PhysicalResourceId: secretId, Data: { PublicKey: pair.publicKey } };
};
`;

/** An S3 origin through origin access control whose bucket-policy statement admits the distribution to `prefix` only. */
class PrefixOrigin extends S3BucketOrigin {
  constructor(
    private readonly objects: IBucket,
    private readonly prefix: string,
    private readonly access: S3OriginAccessControl,
  ) {
    super(objects);
  }

  override bind(scope: Construct, options: OriginBindOptions): OriginBindConfig {
    this.objects.addToResourcePolicy(new PolicyStatement({
      principals: [new ServicePrincipal('cloudfront.amazonaws.com')],
      actions: ['s3:GetObject'],
      resources: [this.objects.arnForObjects(`${this.prefix}*`)],
      conditions: { StringEquals: { 'AWS:SourceArn': `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/${options.distributionId}` } },
    }));
    const config = this._bind(scope, options);
    return { ...config, originProperty: { ...config.originProperty!, originAccessControlId: this.access.originAccessControlId } };
  }
}

export interface SignedCdnProps {
  readonly deployment: Deployment;
  readonly def: CdnDef;
  readonly bucket: IBucket;
}

export class SignedCdn extends Construct {
  readonly distribution: Distribution;
  readonly publicKey: PublicKey;
  /** The private key (PEM) the functions that use this CDN sign its URLs with. */
  readonly signingKey: Secret;

  constructor(scope: Construct, id: string, props: SignedCdnProps) {
    super(scope, id);
    const { deployment, def } = props;
    const { topology } = deployment;

    this.signingKey = new Secret(this, 'SigningKey', {
      secretName: secretName(deployment.stage, `cdn-${def.name}-signing-key`),
      description: `the private key of the ${def.name} CDN's signed URLs (its custom resource puts it here)`,
      // a new stack makes a new key pair: nothing signed with the old one outlives its distribution
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.signingKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'the key pair is rotated by replacing the key-pair resource (a CloudFront public key cannot change); signed URLs live 15 minutes',
    });

    const keyPairFunction = new LambdaFunction(this, 'KeyPairFunction', {
      description: `makes the ${def.name} CDN's signing key pair at deploy time`,
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline(KEY_PAIR_HANDLER),
      timeout: Duration.seconds(30),
      logGroup: new LogGroup(this, 'KeyPairFunctionLogs', { retention: logRetention(topology), removalPolicy: RemovalPolicy.DESTROY }),
    });
    keyPairFunction.addToRolePolicy(new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      resources: [this.signingKey.secretArn],
    }));
    const provider = new Provider(this, 'KeyPairProvider', {
      onEventHandler: keyPairFunction,
      logGroup: new LogGroup(this, 'KeyPairProviderLogs', { retention: logRetention(topology), removalPolicy: RemovalPolicy.DESTROY }),
    });
    const keyPair = new CustomResource(this, 'KeyPair', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::CdnKeyPair',
      properties: { SecretId: this.signingKey.secretArn },
    });
    this.publicKey = new PublicKey(this, 'PublicKey', {
      encodedKey: keyPair.getAttString('PublicKey'),
      comment: `Framewise ${deployment.stage} ${def.name} CDN`,
    });
    const keyGroup = new KeyGroup(this, 'KeyGroup', { items: [this.publicKey], comment: `Framewise ${deployment.stage} ${def.name} CDN signers` });

    const cache = new CachePolicy(this, 'Cache', {
      comment: `Framewise ${deployment.stage} ${def.name} CDN: objects by path alone (never the signature)`,
      defaultTtl: Duration.seconds(def.cacheSeconds),
      maxTtl: Duration.seconds(def.cacheSeconds),
      minTtl: Duration.seconds(0),
      queryStringBehavior: CacheQueryStringBehavior.none(),
      headerBehavior: CacheHeaderBehavior.none(),
      cookieBehavior: CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    // The content type is the object's own (stored with it); CloudFront passes it through, nosniff keeps it.
    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: `Framewise ${deployment.stage} ${def.name} CDN: CORS and nosniff`,
      corsBehavior: {
        accessControlAllowCredentials: def.cors.allowCredentials,
        accessControlAllowHeaders: [...def.cors.allowedHeaders],
        accessControlAllowMethods: [...def.cors.allowedMethods],
        accessControlAllowOrigins: [...def.cors.allowedOrigins],
        accessControlMaxAge: Duration.seconds(def.cors.maxAgeSeconds),
        originOverride: true,
      },
      securityHeadersBehavior: { contentTypeOptions: { override: true } },
    });

    const access = new S3OriginAccessControl(this, 'OriginAccess', { signing: Signing.SIGV4_ALWAYS, description: `Framewise ${deployment.stage} ${def.name} CDN` });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Framewise ${deployment.stage} ${def.name} CDN (signed URLs)`,
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: new PrefixOrigin(props.bucket, def.prefix, access),
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: CachedMethods.CACHE_GET_HEAD,
        cachePolicy: cache,
        responseHeadersPolicy: headers,
        trustedKeyGroups: [keyGroup],
        compress: true,
      },
    });
    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'viewers open slides from anywhere; every URL is signed for one object by the API for an authenticated key' },
      { id: 'AwsSolutions-CFR2', reason: 'every request needs a URL signed by the API, which authenticates and throttles whoever asks for it' },
      { id: 'AwsSolutions-CFR3', reason: "the API logs every signed URL it issues and to whom; the origin's reads are in the bucket's server access logs" },
      { id: 'AwsSolutions-CFR4', reason: 'the default *.cloudfront.net certificate: a custom domain with its certificate sets TLSv1.2_2021' },
    );
    acknowledgeKeyPairFindings(keyPairFunction, provider, deployment, def);
  }

  /** Where functions find it: its domain, the id of the public key their signatures name, and the private key's secret. */
  location(): { domainName: string; keyPairId: string; keySecretId: string } {
    return { domainName: this.distribution.distributionDomainName, keyPairId: this.publicKey.publicKeyId, keySecretId: this.signingKey.secretArn };
  }
}

function acknowledgeKeyPairFindings(keyPairFunction: LambdaFunction, provider: Provider, deployment: Deployment, def: CdnDef): void {
  const basicExecution = {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: `the AWS-maintained minimum for the ${def.name} CDN's key-pair functions to write their logs; they only run during a deployment`,
  };
  Validations.of(keyPairFunction).acknowledge(basicExecution, {
    id: 'AwsSolutions-L1',
    reason: `${deployment.topology.settings.lambdaRuntime}, the runtime of every Framewise function (settings.lambdaRuntime); it moves with that setting`,
  });
  const framework = provider.node.findChild('framework-onEvent');
  Validations.of(framework).acknowledge(basicExecution, {
    id: 'AwsSolutions-L1',
    reason: "CDK's custom-resource provider framework: its runtime is the one CDK ships it with",
  }, {
    id: `AwsSolutions-IAM5[Resource::<${Stack.of(keyPairFunction).getLogicalId(keyPairFunction.node.defaultChild as never)}.Arn>:*]`,
    reason: "CDK's provider framework invokes the key-pair function, any of its versions",
  });
}

/** The topology's CDNs, each in front of its bucket. */
export class Cdns extends Construct {
  private readonly byName = new Map<string, SignedCdn>();

  constructor(scope: Construct, id: string, props: { deployment: Deployment; bucket: (name: string) => IBucket }) {
    super(scope, id);
    for (const def of props.deployment.topology.cdns) {
      this.byName.set(def.name, new SignedCdn(this, pascal(def.name), { deployment: props.deployment, def, bucket: props.bucket(def.bucket) }));
    }
  }

  get(name: string): SignedCdn {
    const c = this.byName.get(name);
    if (!c) throw new Error(`no CDN named ${name} in the topology`);
    return c;
  }

  all(): SignedCdn[] {
    return [...this.byName.values()];
  }
}

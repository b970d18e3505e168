// The web console in AWS: its files (the site folder and the npm files it imports, staged together at synth) in a
// private bucket, served by CloudFront through origin access control, with the HTTP API under /v1/ on the same
// distribution, so the console calls the API on its own origin (no CORS, one Content-Security-Policy).
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import {
  AllowedMethods, CachePolicy, Distribution, HeadersFrameOption, HeadersReferrerPolicy, HttpVersion, OriginRequestPolicy, PriceClass,
  ResponseHeadersPolicy, ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { siteContentSecurityPolicy, type SiteDef } from '../topology.ts';
import type { FoundationStack } from './foundation.ts';
import { logRetention, PROJECT_ROOT, type Deployment } from './names.ts';
import { ABORT_INCOMPLETE_UPLOADS } from './storage.ts';

export interface ConsoleStackProps extends StackProps {
  readonly deployment: Deployment;
  readonly foundation: FoundationStack;
}

/** The site's folder and its vendor files in one folder, as the bucket will hold them (tsconfig.json left out). */
export function stageSiteFiles(site: SiteDef, root = PROJECT_ROOT): string {
  const staged = mkdtempSync(join(tmpdir(), `framewise-${site.name}-`));
  cpSync(join(root, site.folder), staged, { recursive: true, filter: (src) => !src.endsWith('tsconfig.json') });
  for (const v of site.vendor) {
    for (const file of v.files) {
      const to = join(staged, 'vendor', v.package, file);
      mkdirSync(dirname(to), { recursive: true });
      cpSync(join(root, 'node_modules', v.package, file), to);
    }
  }
  return staged;
}

export class ConsoleStack extends Stack {
  readonly distribution: Distribution;
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ConsoleStackProps) {
    super(scope, id, { description: `Framewise ${props.deployment.stage}: web console (S3 + CloudFront, the API under /v1/)`, ...props });
    const { deployment, foundation } = props;
    const { topology } = deployment;
    const site = topology.site;

    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: foundation.storage.accessLogs,
      serverAccessLogsPrefix: `${site.name}/`,
      lifecycleRules: [ABORT_INCOMPLETE_UPLOADS],
    });

    // The API's redirects lead to the media bucket (presigned) and to the CDNs (signed): pages may show their images
    // and video, and fetch them.
    const media = foundation.storage.get('media');
    const objectOrigins = [media.bucketRegionalDomainName, ...foundation.cdns.all().map((c) => c.distribution.distributionDomainName)].map((d) => `https://${d}`);
    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: `Framewise ${deployment.stage} console: CSP and security headers`,
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: siteContentSecurityPolicy(objectOrigins.join(' ')), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });
    const api = foundation.api.api;
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Framewise ${deployment.stage} console and API`,
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      additionalBehaviors: {
        // the API itself, never cached here: every request carries its key and is answered by the API
        '/v1/*': {
          origin: new HttpOrigin(`${api.apiId}.execute-api.${this.region}.amazonaws.com`),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      },
    });
    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'operators and clients sign in from anywhere; access is by API key, not by country' },
      { id: 'AwsSolutions-CFR2', reason: 'the static files are public code; every /v1/ request is authenticated and throttled by the API' },
      { id: 'AwsSolutions-CFR3', reason: "API requests are in the API's access logs and the files' reads in the bucket's server access logs" },
      { id: 'AwsSolutions-CFR4', reason: 'the default *.cloudfront.net certificate: a custom domain with its certificate sets TLSv1.2_2021' },
    );

    const deploy = new BucketDeployment(this, 'DeployFiles', {
      sources: [Source.asset(stageSiteFiles(site))],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      // pages revalidate at every load, so a deploy is seen at once; the files they name may be cached a while
      cacheControl: [CacheControl.setPublic(), CacheControl.maxAge(Duration.minutes(5))],
      prune: true,
      memoryLimit: 256,
      logGroup: new LogGroup(this, 'DeployFilesLogs', { retention: logRetention(topology), removalPolicy: RemovalPolicy.DESTROY }),
    });
    for (const child of this.node.findAll().filter((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'))) {
      Validations.of(child).acknowledge(
        { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: "the logging policy of CDK's bucket-deployment handler, which only runs during a deployment" },
        { id: 'AwsSolutions-L1', reason: "CDK's bucket-deployment handler: its runtime is the one CDK ships it with" },
        ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => ({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason: "CDK's bucket-deployment grants: read the staged asset, write and prune the console's own bucket",
        })),
        { id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/*]`, reason: "every object of the console's own bucket, which the deployment replaces" },
        { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]', reason: "the CDK asset bucket's objects, where the staged files wait" },
        { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'cloudfront:CreateInvalidation and GetInvalidation, which take no resource narrower than *' },
      );
    }
    void deploy;

    new CfnOutput(this, 'ConsoleUrl', { value: `https://${this.distribution.distributionDomainName}/`, description: 'The web console (and the API under /v1/)' });
  }
}

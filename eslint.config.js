import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { CONTEXTS } from './infra/topology.ts';

// Imports point one way: functions/lib stands below every context, and each context (functions/<context>/) imports
// lib and only the contexts before it in CONTEXTS. Nothing in functions/ imports infra/ or the CLI; the CLI imports
// nothing of functions/ (it speaks to them over HTTP); shared/ holds what both run and imports neither.
const folder = (name) => `**/${name}/**`;
const never = (names, message) => names.map((name) => ({ group: [folder(name)], message }));
const NOT_INFRA = never(['infra'], 'functions/ never imports from infra/');
const NOT_CLI = never(['cli'], 'functions/ never imports from cli/');
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const above = (context) => CONTEXTS.slice(CONTEXTS.indexOf(context) + 1);

// A context whose features have folders of their own: a feature imports the context's shared modules, never another
// feature (the context's http.ts brings their routes together).
const FEATURES = { materialize: ['bulk', 'segmentation', 'versions'] };
const contextPatterns = (context) => [
  ...NOT_INFRA,
  ...NOT_CLI,
  ...never(above(context), `${context} imports only lib and the contexts below it: lib → ${CONTEXTS.join(' → ')} (CONTEXTS in infra/topology.ts)`),
];
const featureBlocks = (context) =>
  (FEATURES[context] ?? []).map((feature, _, features) => ({
    files: [`functions/${context}/${feature}/**`],
    rules: restrict([
      ...contextPatterns(context),
      ...never(features.filter((f) => f !== feature), `${context}/${feature} imports no other feature of ${context} (${features.join(', ')}): what they share lives in functions/${context}/`),
    ]),
  }));

const contextBlocks = [
  { files: ['functions/lib/**'], rules: restrict([...NOT_INFRA, ...NOT_CLI, ...never(CONTEXTS, 'functions/lib imports no context')]) },
  ...CONTEXTS.flatMap((context) => [{ files: [`functions/${context}/**`], rules: restrict(contextPatterns(context)) }, ...featureBlocks(context)]),
  {
    files: ['shared/**'],
    rules: restrict(never(['functions', 'cli', 'infra'], 'shared/ is run by the CLI and the functions alike: it imports neither')),
  },
  { files: ['cli/**'], rules: restrict(never(['functions'], 'the CLI imports no server module: it describes the API it calls itself')) },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.local/', 'layers/ffmpeg/build/', 'infra/local/stub-package/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: NOT_INFRA }],
    },
  },
  {
    files: ['infra/**', 'test/**', 'bench/**', '*.config.*'],
    rules: { 'no-restricted-imports': 'off' },
  },
  // The console runs in browsers: tsc checks its names against the DOM's types (console/tsconfig.json), and it may
  // import only its own modules and the vendor files it is served with.
  {
    files: ['console/**'],
    rules: {
      'no-undef': 'off',
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\.{1,2}/|/vendor/)', message: 'the console imports its own modules (./…) and /vendor/… only' }] }],
    },
  },
  ...contextBlocks,
);

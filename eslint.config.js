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

const contextBlocks = [
  { files: ['functions/lib/**'], rules: restrict([...NOT_INFRA, ...NOT_CLI, ...never(CONTEXTS, 'functions/lib imports no context')]) },
  ...CONTEXTS.map((context) => ({
    files: [`functions/${context}/**`],
    rules: restrict([
      ...NOT_INFRA,
      ...NOT_CLI,
      ...never(above(context), `${context} imports only lib and the contexts below it: lib → ${CONTEXTS.join(' → ')} (CONTEXTS in infra/topology.ts)`),
    ]),
  })),
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
  ...contextBlocks,
);

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.local/', 'layers/ffmpeg/build/', 'infra/local/stub-package/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/infra/**'], message: 'functions/ never imports from infra/' }] }],
    },
  },
  {
    files: ['infra/**', 'test/**', 'cli/**', 'bench/**', '*.config.*'],
    rules: { 'no-restricted-imports': 'off' },
  },
);

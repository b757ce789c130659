// `import ... from 'ws'` inside the packages under test: the repository's own ESM entry.
export * from '../../../wrapper.mjs';
export { default } from '../../../wrapper.mjs';

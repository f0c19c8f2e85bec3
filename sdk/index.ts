// The TypeScript module SDK (docs/module-sdk.md): define step kinds with zod schemas, serve them from a
// module process. Import from here only; the other files are its parts.
export {
  defineStep,
  type ModuleStep,
  type StepContext,
  type StepDeclaration,
  type StepOptions,
} from './define-step';
export { DefinitionError, PermanentError } from './errors';
export { RegistryError } from './registration.client';
export { type RunStepInput, runStep } from './run-step';
export { type ModuleHandle, type StartModuleOptions, startModule } from './start-module';

// Prebuilds the workflow bundle for production workers (set WORKFLOW_BUNDLE_PATH to the output).
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

/** The bundle's code and every file webpack read to make it (what a cache of it depends on). */
export async function bundleWorkflows(): Promise<{ code: string; sources: string[] }> {
  let sources: string[] = [];
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: new DefaultLogger('WARN'),
    webpackConfigHook: (config) => ({
      ...config,
      plugins: [
        ...(config.plugins ?? []),
        {
          apply(compiler) {
            compiler.hooks.afterCompile.tap('rpa-bundle-sources', (compilation) => {
              // Directories are listed too (webpack watches them for new files); the content is in files.
              sources = [...compilation.fileDependencies].filter(
                (file) => path.isAbsolute(file) && statSync(file, { throwIfNoEntry: false })?.isFile(),
              );
            });
          },
        },
      ],
    }),
  });
  return { code, sources };
}

export async function buildWorkflowBundle(outFile: string): Promise<string> {
  const { code } = await bundleWorkflows();
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, code);
  return outFile;
}

if (require.main === module) {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  buildWorkflowBundle(out)
    .then((file) => console.log(`workflow bundle written to ${file}`))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('typed authoring: compile-time checks', () => {
  it('compiles test/types, every @ts-expect-error still being an error', () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '--noEmit', '-p', join(root, 'test', 'types', 'tsconfig.json')], {
        cwd: root,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    // An expected error that disappears is reported as TS2578 "Unused '@ts-expect-error' directive".
    expect(output).toBe('');
  });
});

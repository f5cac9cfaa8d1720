// Vitest's own summary line is not one CI's log reader counts; this reporter
// prints the failures it saw and ends the run with `N passed, N failed[, N skipped]`.
import type { Reporter, TestCase, TestModule } from 'vitest/node';

export default class CountReporter implements Reporter {
  private passed = 0;
  private failed = 0;
  private skipped = 0;
  private moduleErrors = 0;

  onTestCaseResult(testCase: TestCase): void {
    const result = testCase.result();
    if (result.state === 'passed') this.passed++;
    else if (result.state === 'failed') {
      this.failed++;
      const first = result.errors?.[0];
      process.stdout.write(`FAIL ${testCase.module.moduleId} > ${testCase.fullName}\n`);
      if (first) process.stdout.write(`  ${String(first.message).split('\n').slice(0, 6).join('\n  ')}\n`);
    } else this.skipped++;
  }

  onTestModuleEnd(testModule: TestModule): void {
    for (const error of testModule.errors()) {
      this.moduleErrors++;
      process.stdout.write(`FAIL ${testModule.moduleId} (module)\n  ${String(error.message).split('\n')[0]}\n`);
    }
  }

  onTestRunEnd(): void {
    const failed = this.failed + this.moduleErrors;
    const skipped = this.skipped ? `, ${this.skipped} skipped` : '';
    process.stdout.write(`\n${this.passed} passed, ${failed} failed${skipped}\n`);
  }
}

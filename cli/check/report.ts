import { create } from 'xmlbuilder2';
import type { CheckCase, CheckReport } from './run-checks';

const where = (c: CheckCase) => `${c.file}${c.node ? ` (node ${c.node})` : ''}`;

/** The report for a person: a line per check, the reasons of failures indented below it, a total. */
export function renderHuman(report: CheckReport): string {
  const lines = report.cases.flatMap((c) => [
    `${c.passed ? '✔' : '✘'} ${where(c)}  ${c.name}`,
    ...(c.reason ?? '')
      .split('\n')
      .filter(Boolean)
      .map((line) => `    ${line}`),
  ]);
  const failed = report.cases.filter((c) => !c.passed).length;
  const files = `${report.files.length} pipeline${report.files.length === 1 ? '' : 's'}`;
  lines.push(
    failed
      ? `\n${failed} of ${report.cases.length} checks failed in ${files}`
      : `\nAll ${report.cases.length} checks passed in ${files}`,
  );
  return lines.join('\n');
}

/**
 * The report as JUnit XML, the format CI systems show test results in: a suite per pipeline file,
 * a test case per check, a failure element with the node and reason for each that failed.
 */
export function renderJunit(report: CheckReport): string {
  const failures = (cases: CheckCase[]) => cases.filter((c) => !c.passed).length;
  const seconds = (cases: CheckCase[]) => cases.reduce((sum, c) => sum + c.seconds, 0).toFixed(3);
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', {
    name: 'kiln check',
    tests: report.cases.length,
    failures: failures(report.cases),
    time: seconds(report.cases),
  });
  for (const file of report.files) {
    const cases = report.cases.filter((c) => c.file === file);
    const suite = root.ele('testsuite', {
      name: file,
      tests: cases.length,
      failures: failures(cases),
      errors: 0,
      time: seconds(cases),
    });
    for (const c of cases) {
      const testcase = suite.ele('testcase', { classname: file, name: c.name, time: c.seconds.toFixed(3) });
      if (!c.passed)
        testcase
          .ele('failure', { type: c.kind, message: `${where(c)}: ${c.reason?.split('\n')[0] ?? 'failed'}` })
          .txt(c.reason ?? '');
    }
  }
  return root.end({ prettyPrint: true });
}

// Peak resident memory of the API and the worker processes over the run: it reads what the sampler and
// the kernel recorded while the other scenarios ran, so it comes last.
import type { MemoryFigures, ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded } from '../stats.js';

export async function memory(stack: BenchStack): Promise<ScenarioRun<MemoryFigures>> {
  const peaks = stack.memory();
  return {
    figures: {
      apiPeakRssMb: rounded(peaks.api),
      workerPeakRssMb: rounded(peaks.worker),
      apiPeakRssDuringScenariosMb: rounded(peaks.apiSampled),
      workerPeakRssDuringScenariosMb: rounded(peaks.workerSampled),
      apiRssAtStartMb: rounded(peaks.apiAtStart),
      workerRssAtStartMb: rounded(peaks.workerAtStart),
    },
    distributions: [],
  };
}

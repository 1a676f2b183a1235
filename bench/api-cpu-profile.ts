// Loaded into the API process (NODE_OPTIONS=--import) by `npm run bench -- --cpu-prof`: Node refuses --cpu-prof
// in NODE_OPTIONS, and dev/parts.ts starts parts with no node flags of their own. Profiling starts
// on SIGUSR2, which the bench sends once start-up (and tsx's compiling) is over, and stops at exit.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const target = process.env['BENCH_CPU_PROFILE'];
if (target) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  process.once('SIGUSR2', () => session.post('Profiler.start'));
  process.once('exit', () => {
    // The in-process session answers synchronously, so the file is written before the process is gone.
    session.post('Profiler.stop', (err, result) => {
      if (err) console.error('CPU profile not written', err);
      else writeFileSync(target, JSON.stringify(result.profile));
    });
  });
}

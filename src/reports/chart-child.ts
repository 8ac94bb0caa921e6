/**
 * The /stats chart renderer, run as a short-lived child process (src/reports/chart.ts starts it):
 * chart.js and its native canvas (~25 MB) live and die here, so the bot's own RSS stays flat.
 * Reads `{ "stats": IncidentStats, "title": string }` as JSON on stdin, writes the PNG to stdout,
 * exits 0; anything else exits non-zero with one line on stderr.
 */
import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables } from 'chart.js';
import { SEVERITIES } from '../domain/severity.js';
import type { IncidentStats } from './stats.js';

/** Renders incidents per severity and MTTA/MTTR medians (minutes) to an 800×450 PNG, no browser. */
function draw(s: IncidentStats, title: string): Buffer {
  Chart.register(...registerables);
  const canvas = createCanvas(800, 450);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, 800, 450);
  const min = (ms: number | undefined) =>
    ms === undefined ? 0 : Math.round((ms / 60_000) * 10) / 10;
  const chart = new Chart(ctx as unknown as ConstructorParameters<typeof Chart>[0], {
    type: 'bar',
    data: {
      labels: [...SEVERITIES],
      datasets: [
        {
          label: 'incidents',
          data: SEVERITIES.map((x) => s.bySeverity[x].count),
          backgroundColor: '#e0533d',
          yAxisID: 'y',
        },
        {
          label: 'MTTA median (min)',
          data: SEVERITIES.map((x) => min(s.bySeverity[x].mttaMedian)),
          backgroundColor: '#f2a93b',
          yAxisID: 'y1',
        },
        {
          label: 'MTTR median (min)',
          data: SEVERITIES.map((x) => min(s.bySeverity[x].mttrMedian)),
          backgroundColor: '#3b7dd8',
          yAxisID: 'y1',
        },
      ],
    },
    options: {
      responsive: false,
      animation: false,
      plugins: { title: { display: true, text: title }, legend: { position: 'bottom' } },
      scales: {
        y: { beginAtZero: true, position: 'left', title: { display: true, text: 'incidents' } },
        y1: {
          beginAtZero: true,
          position: 'right',
          grid: { drawOnChartArea: false },
          title: { display: true, text: 'minutes' },
        },
      },
    },
  });
  const png = canvas.toBuffer('image/png');
  chart.destroy();
  return png;
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    stats: IncidentStats;
    title: string;
  };
  const png = draw(input.stats, String(input.title));
  process.stdout.write(png, () => process.exit(0));
}

main().catch((e: unknown) => {
  process.stderr.write(`chart: ${(e as Error).message}\n`);
  process.exit(1);
});

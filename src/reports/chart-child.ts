/**
 * The /stats chart renderer, run as a child process that src/reports/chart.ts keeps warm for a
 * while: chart.js and its native canvas (~25 MB) live here, so the bot's own RSS stays flat.
 * Reads one `{ "stats": IncidentStats, "title": string }` JSON line per chart on stdin.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables } from 'chart.js';
import { SEVERITIES } from '../domain/severity.js';
import type { IncidentStats } from './stats.js';

/** Renders incidents per severity and MTTA/MTTR medians (minutes) to an 800×450 PNG, no browser. */
function draw(s: IncidentStats, title: string): Buffer {
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

/** One request a line on stdin; each answer is a frame on stdout: 1 status byte (0 = PNG, 1 = error
 * text), a 4-byte big-endian length, then that many bytes. Exits 0 when stdin ends. */
function frame(status: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(status, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

async function main(): Promise<void> {
  Chart.register(...registerables);
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let out: Buffer;
    try {
      const input = JSON.parse(line) as { stats: IncidentStats; title: string };
      out = frame(0, draw(input.stats, String(input.title)));
    } catch (e) {
      out = frame(1, Buffer.from(`chart: ${(e as Error).message}`, 'utf8'));
    }
    if (!process.stdout.write(out)) await once(process.stdout, 'drain');
  }
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`chart: ${(e as Error).message}\n`);
  process.exit(1);
});

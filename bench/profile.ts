// A CPU profile of one bench phase, taken in-process with the inspector (so only that phase is
// sampled), written as a .cpuprofile (open it in Chrome DevTools → Performance, or speedscope) and
// summarised as the functions and the code areas with the most self time.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { sep } from 'node:path'
import { PACKAGE_ROOT } from '../src/config/paths.js'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
}
interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export interface ProfileSummary {
  file: string
  sampledMs: number
  topFunctions: { fn: string; where: string; area: string; selfMs: number; pct: number }[]
  areas: { area: string; selfMs: number; pct: number }[]
}

export async function startProfiling(): Promise<() => Promise<CpuProfile>> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 500 })
  await session.post('Profiler.start')
  return async () => {
    const { profile } = await session.post('Profiler.stop')
    await session.post('Profiler.disable')
    session.disconnect()
    return profile as unknown as CpuProfile
  }
}

/** Which part of the system a frame belongs to: a package, a paperd directory, node internals. */
function areaOf(frame: CallFrame): string {
  const url = frame.url
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native/V8)'
  if (url.startsWith('node:')) return 'node internals'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/')
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  const path = url.replace(/^file:\/\//, '')
  const root = PACKAGE_ROOT + sep
  if (path.startsWith(root)) {
    const rel = path.slice(root.length).replace(/^dist\//, '')
    // paperd areas: src/runtime, src/codec, actors/…, bench
    const m = /^(src\/runtime|actors\/lib|actors|bench|src)\/([^/]+)\.js$/.exec(rel)
    return m ? `paperd ${m[1]}/${m[2]}` : `paperd ${rel}`
  }
  return 'other'
}

function shortWhere(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '')
  if (!url) return ''
  const nm = url.lastIndexOf('node_modules/')
  const short = nm >= 0 ? url.slice(nm + 'node_modules/'.length) : url.startsWith(PACKAGE_ROOT) ? url.slice(PACKAGE_ROOT.length + 1) : url
  return `${short}:${frame.lineNumber + 1}`
}

export function summariseProfile(profile: CpuProfile, file: string, top = 20): ProfileSummary {
  writeFileSync(file, JSON.stringify(profile))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + (deltas[i + 1] ?? 0))
  let total = 0
  const fns = new Map<string, { fn: string; where: string; area: string; us: number }>()
  const areas = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame
    total += us
    const fn = frame.functionName || '(anonymous)'
    const where = shortWhere(frame)
    const key = `${fn}@${where}`
    const area = areaOf(frame)
    const f = fns.get(key) ?? { fn, where, area, us: 0 }
    f.us += us
    fns.set(key, f)
    areas.set(area, (areas.get(area) ?? 0) + us)
  }
  const pct = (us: number) => Math.round((1000 * us) / total) / 10
  const ms = (us: number) => Math.round(us / 100) / 10
  return {
    file,
    sampledMs: ms(total),
    topFunctions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, area: f.area, selfMs: ms(f.us), pct: pct(f.us) })),
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, selfMs: ms(us), pct: pct(us) })),
  }
}

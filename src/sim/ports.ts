// Free ports for `--base-port 0`, chosen here rather than by the kernel. Linux's search for a free
// port on a bind to port 0 slows down as its range fills: a farm of 10,000 miners took 24 s to
// start that way, against 1.2 s on ports named one by one. The picker walks the system's local
// port range (where the kernel would have looked) from a random start, so that farms started side
// by side rarely meet; a port found taken is skipped by the caller.
import { readFileSync } from 'node:fs';

export interface PortRange {
  low: number;
  high: number;
}

/** IANA's dynamic range, for systems that do not say theirs. */
const DYNAMIC_RANGE: PortRange = { low: 49_152, high: 65_535 };

/** The kernel's range for ephemeral ports (Linux), else IANA's dynamic range. */
export function localPortRange(
  read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'),
): PortRange {
  try {
    const [low, high] = read().trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! >= 1024 && high! <= 65_535 && low! < high!) {
      return { low: low!, high: high! };
    }
  } catch {
    // Not Linux, or not readable: the dynamic range.
  }
  return DYNAMIC_RANGE;
}

export class PortPicker {
  private next: number;
  private handedOut = 0;

  constructor(
    private readonly range: PortRange,
    start: number = range.low + Math.floor(Math.random() * (range.high - range.low + 1)),
  ) {
    this.next = Math.min(Math.max(start, range.low), range.high);
  }

  /** The next port to try; 0 (the kernel chooses) once every port of the range was handed out. */
  take(): number {
    const { low, high } = this.range;
    if (this.handedOut > high - low) return 0;
    this.handedOut++;
    const port = this.next;
    this.next = port === high ? low : port + 1;
    return port;
  }
}

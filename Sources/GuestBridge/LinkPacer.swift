import Glibc
import HDAudio

/// Drives link time from the host's monotonic clock: link time runs at `rate` times real
/// time (1.0 = real time; 0.25 lets a guest slowed by emulation keep up with its streams).
public struct LinkPacer {
    /// Link time per unit of real time.
    public let rate: Double
    private let originNanos: UInt64
    private let originFrame: UInt64

    /// A pacer at `rate` whose link time reads `frame` now.
    public init(rate: Double, frame: UInt64 = 0) {
        precondition(rate > 0 && rate.isFinite, "the link rate must be positive")
        self.rate = rate
        originNanos = Self.monotonicNanos()
        originFrame = frame
    }

    /// The host's monotonic clock in nanoseconds.
    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// The link frame that is due now.
    public func frameNow() -> UInt64 { frame(atNanos: Self.monotonicNanos()) }

    /// The link frame due at monotonic time `nanos`.
    public func frame(atNanos nanos: UInt64) -> UInt64 {
        guard nanos > originNanos else { return originFrame }
        let seconds = Double(nanos - originNanos) / 1e9
        return originFrame + UInt64(seconds * rate * Double(LinkTiming.framesPerSecond))
    }

    /// `seconds` as nanoseconds for a deadline: NaN and negatives are 0, anything above 10^18 ns
    /// (31 years) is 10^18, so adding it to a monotonic time cannot overflow.
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }
        return UInt64(min(seconds * 1e9, 1e18))
    }

    /// The monotonic time at which link frame `frame` is due.
    public func nanos(atFrame frame: UInt64) -> UInt64 {
        guard frame > originFrame else { return originNanos }
        let seconds = Double(frame - originFrame) / Double(LinkTiming.framesPerSecond) / rate
        return originNanos + Self.nanoseconds(seconds)
    }
}

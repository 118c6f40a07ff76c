/// HDAUDIO_STREAM_STATE: the state SetDmaEngineState moves DMA engines to.
///
/// PauseState and StopState are the same value (1): the same hardware state, RUN = 0
/// with the engine out of reset (reference section 5).
public enum StreamState: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    /// ResetState: the engine is held in stream reset (SRST).
    case reset = 0
    /// StopState, also PauseState: out of reset, RUN = 0.
    case stop = 1
    /// RunState: RUN = 1, the engine moves data.
    case run = 2

    /// PauseState, the same value as StopState.
    public static var pause: StreamState { .stop }

    /// The hdaudio.h name of the state.
    public var description: String {
        switch self {
        case .reset: "ResetState"
        case .stop: "StopState"
        case .run: "RunState"
        }
    }

    /// Whether SetDmaEngineState may move an engine from `self` to `target`:
    /// no direct Run to Reset and no Reset to Run.
    public func canMove(to target: StreamState) -> Bool {
        switch (self, target) {
        case (.run, .reset), (.reset, .run): false
        default: true
        }
    }
}

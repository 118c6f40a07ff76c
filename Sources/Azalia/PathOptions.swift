import Foundation
public import HDACodec
import HDAController
import HDAudio
import HDAudioBus
import Synchronization

/// The DDI version a function driver opens.
public enum DDIInterface: String, CaseIterable, Sendable, Codable {
    /// HDAUDIO_BUS_INTERFACE: AllocateDmaBuffer, the client keeps ahead of the position it
    /// reads through GetLinkPositionRegister.
    case base
    /// HDAUDIO_BUS_INTERFACE_V2: AllocateDmaBufferWithNotification with two notifications,
    /// the client refills on each.
    case v2
    /// HDAUDIO_BUS_INTERFACE_BDL: AllocateContiguousDmaBuffer, the client's own BDL,
    /// SetupDmaEngineWithBdl, the client refills in its ISR's wake.
    case bdl
}

/// A fault a caller can inject into the function driver, to see a path fail.
public enum ConverterFault: String, CaseIterable, Sendable, Codable {
    /// No fault.
    case none
    /// The DAC is programmed with a converter format other than the one the bus returned.
    case dacFormat = "dac-format"
    /// The ADC is programmed with a converter format other than the one the bus returned.
    case adcFormat = "adc-format"
}

/// How a function driver's codec verbs travel.
public enum VerbPath: String, CaseIterable, Sendable, Codable {
    /// Through the bus's TransferCodecVerbs: CORB out, RIRB back (what a driver does).
    case corb
    /// Straight to the codec's linkCommand, bypassing the command path.
    case direct
}

/// How a path runs.
public struct AudioPathOptions: Sendable {
    /// The DDI version (V2 by default).
    public var interface: DDIInterface = .v2
    /// Ask for the render stream to be striped over every SDO line.
    public var stripe = false
    /// The buffer size asked of the bus, in bytes.
    public var requestedBufferBytes = 16 * 1024
    /// The most link frames advanced between two looks at the position (the actual step
    /// is also at most a quarter of the buffer).
    public var maxChunkFrames: UInt64 = 480
    /// The codec's address (its SDI line).
    public var codecAddress: UInt8 = 0
    /// Where DDI calls, state changes, interrupts (every ISR run), notifications, refused
    /// packets and positions are traced.
    public var trace: TraceRecorder?
    /// A fault to inject.
    public var fault: ConverterFault = .none
    /// How codec verbs travel (CORB/RIRB by default).
    public var verbPath: VerbPath = .corb
    /// The codec on the link: nil for Azalia's own `VirtualCodec`, or a real chip's dump
    /// (a `DumpCodec` answering as that chip, at `codecAddress`).
    public var codecDump: CodecDump?

    /// A new codec for a run: the dump's chip, or Azalia's virtual codec. With a trace,
    /// refused packets (and unsolicited responses) go to it through `bridge`: a refused
    /// packet as an instant on its engine's timeline at the packet's frame.
    func makeCodec(tracingTo bridge: CodecTraceBridge) -> PathCodecChoice {
        let codec: PathCodecChoice = codecDump.map { .dump(DumpCodec(dump: $0, address: codecAddress)) } ?? .virtual(VirtualCodec(address: codecAddress))
        if let trace { codec.codec.setTrace { event in bridge.record(event, to: trace) } }
        return codec
    }


    /// The defaults.
    public init() {}
}

/// Progress of a path, reported after every step of link time.
public struct AudioProgress: Sendable, Hashable {
    /// Bytes of the streams done (played, or recorded).
    public var done: Int
    /// Bytes to do.
    public var total: Int
    /// The link frame now.
    public var frame: UInt64
}

/// Why a path could not run.
public enum AudioPathError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The WAV file could not be used.
    case wav(WAVError)
    /// The samples' format cannot travel on the link.
    case unencodable(String)
    /// The system could not be built (unknown profile, bus did not start).
    case system(AzaliaSystemError)
    /// The function driver failed (a DDI refusal names its status).
    case driver(FunctionDriverError)
    /// The client fell behind the engine (an underrun or overrun of the cyclic buffer).
    case fellBehind(String)
    /// Link time ran far past what the stream needs without finishing.
    case stalled(String)

    /// A stream format that cannot be encoded (`unencodable`, naming the format and its problem).
    static func invalidFormat(_ format: StreamFormat) -> AudioPathError {
        .unencodable("format \(format.compact): \(format.problem ?? "invalid") (\(NTStatus.invalidParameter))")
    }

    /// The reason in words.
    public var description: String {
        switch self {
        case .wav(let e): "\(e)"
        case .unencodable(let s): s
        case .system(let e): "\(e)"
        case .driver(let e): "\(e)"
        case .fellBehind(let s): s
        case .stalled(let s): s
        }
    }
}


/// The codec of a run, by its concrete type.
enum PathCodecChoice {
    /// Azalia's own codec.
    case virtual(VirtualCodec)
    /// A real chip's dump.
    case dump(DumpCodec)

    /// The codec.
    var codec: any PathCodec {
        switch self {
        case .virtual(let c): c
        case .dump(let c): c
        }
    }

    /// See `PathCodec.connectDefaultOutput`.
    func connectDefaultOutput(_ sink: any SampleSink) -> Bool { codec.connectDefaultOutput(sink) }
    /// See `PathCodec.connectDefaultInput`.
    func connectDefaultInput(_ source: any SampleSource) -> Bool { codec.connectDefaultInput(source) }
}

import Foundation
public import HDACodec
import HDAController
import HDAudio
import HDAudioBus
import Synchronization

/// One engine a path used.
public struct EngineReport: Sendable, Hashable, Codable {
    /// "render" or "capture".
    public var direction: String
    /// "input", "output" or "bidirectional".
    public var kind: String
    /// The descriptor index.
    public var index: Int
    /// The stream tag (StreamId).
    public var tag: Int
    /// The stream format, RATE/BITS/CHANNELS.
    public var format: String
    /// The converter format the bus returned, 0xNNNN.
    public var converterFormat: String
    /// FifoSize (SDnFIFOS + 1) in bytes.
    public var fifoSize: Int
    /// The lines charged: "SDO0", "SDO0-SDO3" or "SDI0".
    public var lines: String
    /// Bits per frame charged to each of those lines.
    public var bitsPerLine: Int
}

/// One buffer a path used.
public struct BufferReport: Sendable, Hashable, Codable {
    /// The size asked for.
    public var requestedBytes: Int
    /// The size used (AllocatedBufferSize, or the BDL's total length).
    public var bytes: Int
    /// Pages of the buffer.
    public var pages: Int
    /// BDL entries.
    public var bdlEntries: Int
    /// IOC points per pass over the buffer.
    public var notificationsPerBuffer: Int
}

/// One stream of a path, after the run.
public struct StreamReport: Sendable, Hashable, Codable {
    /// Its engine.
    public var engine: EngineReport
    /// Its buffer.
    public var buffer: BufferReport
    /// Notification events signalled (V2).
    public var notifications: Int
    /// ISR calls (BDL).
    public var interrupts: Int
    /// The position register's last value before the stream stopped.
    public var finalPosition: Int
    /// Bytes moved by the engine in all.
    public var bytesMoved: Int
}

/// What a path did.
public struct AudioPathReport: Sendable, Hashable, Codable {
    /// The controller profile.
    public var profile: String
    /// The DDI version.
    public var interface: DDIInterface
    /// The stream format.
    public var format: String
    /// Sample blocks of real audio.
    public var blocks: Int
    /// The streams, render first.
    public var streams: [StreamReport]
    /// Link frames from RUN to stop.
    public var frames: UInt64
    /// Link time in seconds.
    public var linkSeconds: Double
    /// Wall time of the run in seconds.
    public var wallSeconds: Double
    /// Link seconds per wall second.
    public var speed: Double
    /// Codec verbs sent.
    public var verbs: Int
    /// How they travelled.
    public var verbPath: VerbPath
    /// Packets refused for a format mismatch: by a codec converter, or by the loopback
    /// between the DAC and the ADC.
    public var codecFormatMismatches: Int
    /// Loopback latency in blocks (loopback only).
    public var latencyBlocks: Int?
    /// Whether the output equals the input sample for sample (a real comparison) and no
    /// packet was refused on the way (`codecFormatMismatches` is 0).
    public var bitExact: Bool
    /// The first block that differs, when not bit-exact.
    public var firstDifferentBlock: Int?
}

/// The result of a path: its report and the audio that came out.
public struct AudioPathResult: Sendable {
    /// What happened.
    public var report: AudioPathReport
    /// The output as a WAV file in the input's layout: what the DAC's sink received (play),
    /// what the client recorded (record, loopback), trimmed to the input's length.
    public var output: WAVFile
}

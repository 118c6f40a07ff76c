import CAzalia
import HDACodec
import HDAudio

/// The codecs a C caller describes for a new system (AZALIA_CODEC, AZALIA_DUMP_CODEC), built
/// with their endpoints. A description that is refused throws (STATUS_INVALID_PARAMETER to
/// the caller). Memory sinks are returned to the caller through `keep`, by DAC number (a
/// dump codec's default output is 0).
enum LinkCodecs {
    struct Refused: Error {}

    /// A sink for `e` (nil for None).
    static func sink(_ e: AZALIA_ENDPOINT, keep: (Int, RecordingSink) -> Void, dac: Int) throws(Refused) -> sending (any SampleSink)? {
        switch e.Kind {
        case AzaliaEndpointNone:
            return nil
        case AzaliaEndpointWavFile:
            guard let path = e.Path else { throw Refused() }
            let file = WAVFileSink(path: String(cString: path))
            return e.FrameLimit == 0 ? file : TrimmedSink(file, blocks: e.FrameLimit)
        case AzaliaEndpointMemory:
            let sink = RecordingSink(limit: e.FrameLimit == 0 ? Int.max : Int(clamping: e.FrameLimit))
            keep(dac, sink)
            return sink
        default:
            throw Refused()
        }
    }

    /// A source for `e` (nil for None); data that does not read is refused.
    static func source(_ e: AZALIA_ENDPOINT) throws(Refused) -> sending (any SampleSource)? {
        switch e.Kind {
        case AzaliaEndpointNone:
            return nil
        case AzaliaEndpointWavFile:
            guard let path = e.Path, let source = try? WAVFileSource(path: String(cString: path)) else { throw Refused() }
            return source
        case AzaliaEndpointMemory:
            guard e.DataLength == 0 || e.Data != nil else { throw Refused() }
            let bytes = e.DataLength == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: e.Data, count: Int(e.DataLength)))
            guard let source = try? SampleBuffer(format: streamFormat(e.Format), data: bytes) else { throw Refused() }
            return source
        default:
            throw Refused()
        }
    }

    /// Azalia's virtual codec at `address`, with an endpoint per DAC and ADC.
    static func virtualCodec(_ spec: AZALIA_CODEC, address: Int, keep: (Int, RecordingSink) -> Void) throws(Refused) -> sending VirtualCodec {
        guard spec.DacCount <= 60, spec.AdcCount <= 60,
              spec.SinkCount == 0 || spec.Sinks != nil, spec.SourceCount == 0 || spec.Sources != nil else { throw Refused() }
        let codec = VirtualCodec(address: UInt8(address),
                                 configuration: CodecConfiguration(dacCount: Int(spec.DacCount), adcCount: Int(spec.AdcCount)))
        for d in 0..<min(Int(spec.SinkCount), Int(spec.DacCount)) {
            let e = spec.Sinks![d]
            if e.Kind == AzaliaEndpointLoopback {
                guard e.Peer < spec.AdcCount else { throw Refused() }
                codec.loopback(dac: d, adc: Int(e.Peer))
            } else if let s = try sink(e, keep: keep, dac: d) {
                codec.setSink(s, dac: d)
            }
        }
        for a in 0..<min(Int(spec.SourceCount), Int(spec.AdcCount)) {
            if let s = try source(spec.Sources![a]) { codec.setSource(s, adc: a) }
        }
        return codec
    }

    /// A real chip's codec from its dump at `address`, with a sink at its default output pin
    /// and a source at its default input pin.
    static func dumpCodec(_ spec: AZALIA_DUMP_CODEC, address: Int, keep: (Int, RecordingSink) -> Void) throws(Refused) -> sending DumpCodec {
        guard let path = spec.Path, let dump = try? CodecDump.load(String(cString: path)) else { throw Refused() }
        let codec = DumpCodec(dump: dump, address: UInt8(address))
        if let s = try sink(spec.Output, keep: keep, dac: 0), !codec.connectDefaultOutput(s) { throw Refused() }
        if let s = try source(spec.Input), !codec.connectDefaultInput(s) { throw Refused() }
        return codec
    }
}

public import HDAudio

/// A codec an audio path can run through: a sink at its default output, a source at its
/// default input, and the packets its converters refused.
public protocol PathCodec: LinkCodec {
    /// Connects the default output (where a function driver's default output path ends) to
    /// a sink; false when the codec has none.
    @discardableResult func connectDefaultOutput(_ sink: (any SampleSink)?) -> Bool
    /// Connects the default input to a source; false when the codec has none.
    @discardableResult func connectDefaultInput(_ source: (any SampleSource)?) -> Bool
    /// Packets refused by a converter, in total.
    var formatMismatchCount: Int { get }
    /// Sets the closure called for every verb, refused packet and unsolicited response.
    func setTrace(_ trace: (@Sendable (CodecTraceEvent) -> Void)?)
}

extension VirtualCodec: PathCodec {
    /// Sets `trace`.
    public func setTrace(_ trace: (@Sendable (CodecTraceEvent) -> Void)?) { self.trace = trace }

    /// DAC 0 (whose output pin is the first line out).
    public func connectDefaultOutput(_ sink: (any SampleSink)?) -> Bool {
        guard !dacNodes.isEmpty else { return false }
        setSink(sink, dac: 0)
        return true
    }

    /// ADC 0 (which records the first line in).
    public func connectDefaultInput(_ source: (any SampleSource)?) -> Bool {
        guard !adcNodes.isEmpty else { return false }
        setSource(source, adc: 0)
        return true
    }
}

extension DumpCodec: PathCodec {
    /// Sets `trace`.
    public func setTrace(_ trace: (@Sendable (CodecTraceEvent) -> Void)?) { self.trace = trace }

    /// The pin of the graph's default output path.
    public func connectDefaultOutput(_ sink: (any SampleSink)?) -> Bool {
        guard let path = graph.defaultOutput else { return false }
        return setSink(sink, pin: path.pin)
    }

    /// The pin of the graph's default input path.
    public func connectDefaultInput(_ source: (any SampleSource)?) -> Bool {
        guard let path = graph.defaultInput else { return false }
        return setSource(source, pin: path.pin)
    }
}

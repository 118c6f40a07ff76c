public import HDAudio

/// Streams through a dump codec: DACs to output pins, input pins to ADCs.
extension DumpCodec {

    func record(_ m: FormatMismatch) {
        formatMismatchCount += 1
        if formatMismatches.count < mismatchLogLimit { formatMismatches.append(m) }
        trace?(.mismatch(m))
    }

    /// See `CodecDump.supports(_:node:)`.
    func supports(_ format: StreamFormat, node n: CodecDump.Node) -> Bool { dump.supports(format, node: n) }

    /// A node's signal passes its output amp (not muted).
    func outputOpen(_ i: Int) -> Bool {
        dump.nodes[i].wcaps & WidgetBits.outAmp == 0 || state[i].ampOut[0] & 0x80 == 0 || state[i].ampOut[1] & 0x80 == 0
    }

    /// The input amp at `k` of a node lets the signal through.
    func inputOpen(_ i: Int, _ k: Int) -> Bool {
        guard dump.nodes[i].wcaps & WidgetBits.inAmp != 0 else { return true }
        let amps = state[i].ampIn
        let a = k < amps.count ? amps[k] : amps[0]
        return a[0] & 0x80 == 0 || a[1] & 0x80 == 0
    }

    /// The connection entries a node takes its signal from now: the selected one, or for a
    /// mixer every entry whose input amp is open.
    func activeInputs(_ i: Int) -> [UInt8] {
        let n = dump.nodes[i]
        guard !n.connections.isEmpty else { return [] }
        if n.type == .mixer {
            return n.connections.indices.filter { inputOpen(i, $0) }.map { n.connections[$0] }
        }
        let k = n.connections.count == 1 ? 0 : Int(state[i].connectionSelect)
        guard k < n.connections.count else { return [] }
        let ampIndex = n.type == .pin || n.type == .audioInput ? (k < state[i].ampIn.count ? k : 0) : k
        return inputOpen(i, ampIndex) ? [n.connections[k]] : []
    }

    /// The node `from` takes its signal from, down to a node for which `isEnd` holds,
    /// following the present controls (depth at most 8). The end must let the signal out:
    /// a DAC its output amp, an input pin its input amp.
    func follow(from i: Int, depth: Int = 0, to isEnd: (CodecDump.Node) -> Bool) -> UInt8? {
        guard depth < 8 else { return nil }
        for c in activeInputs(i) {
            guard let j = nodes[c] else { continue }
            let n = dump.nodes[j]
            if isEnd(n) { return (n.type == .pin ? inputOpen(j, 0) : outputOpen(j)) ? n.id : nil }
            guard n.type == .mixer || n.type == .selector, outputOpen(j) else { continue }
            if let end = follow(from: j, depth: depth + 1, to: isEnd) { return end }
        }
        return nil
    }

    /// The DAC an output pin plays now (nil: none; the pin off or the path muted).
    public func dacFeeding(pin: UInt8) -> UInt8? {
        guard let i = nodes[pin], state[i].pinControl & CodecBits.pinControlOutEnable != 0, outputOpen(i) else { return nil }
        return follow(from: i) { $0.type == .audioOutput }
    }

    /// The output pins a DAC with a stream (a nonzero tag) plays into now (`dacFeeding`), best
    /// first as the default output ranks them (`CodecGraph.rankedOutputPins`).
    public var playingOutputPins: [UInt8] {
        graph.rankedOutputPins.map(\.id).filter { pin in
            guard let dac = dacFeeding(pin: pin), let i = nodes[dac] else { return false }
            return state[i].streamChannel >> 4 != 0
        }
    }

    /// The input pin an ADC records now (nil: none; the pin off or the path muted).
    public func pinFeeding(adc: UInt8) -> UInt8? {
        guard let i = nodes[adc] else { return nil }
        guard let pin = follow(from: i, to: { $0.type == .pin }), let p = nodes[pin],
              state[p].pinControl & CodecBits.pinControlInEnable != 0 else { return nil }
        return pin
    }

    func refreshRoutes() {
        guard !routeCacheValid else { return }
        routeCache = [:]
        for pin in sinks.keys { if let dac = dacFeeding(pin: pin) { routeCache[pin] = dac } }
        routeCacheValid = true
    }

    /// The stream's memory format if converter `i` takes the packet, else records why not.
    func accept(_ i: Int, output: Bool, tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, bytes: Int) -> StreamFormat? {
        let n = dump.nodes[i]
        switch ConverterPackets.check(converterFormat: state[i].format, format: format, blocks: blocks, bytes: bytes,
                                      supports: { supports($0, node: n) }) {
        case .success(let memory): return memory
        case .failure(let fault):
            record(FormatMismatch(node: n.id, isOutput: output, tag: tag, frame: frame, blocks: blocks,
                                  converterFormat: ConverterFormat(rawValue: state[i].format), streamFormat: format, fault: fault))
            return nil
        }
    }

    /// Output stream data: every DAC set to `tag` plays its channels of the packet into the
    /// sinks of the output pins it reaches now.
    public func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {
        guard tag != 0, blocks > 0 else { return }
        refreshRoutes()
        for dac in graph.dacs {
            guard let i = nodes[dac], state[i].streamChannel >> 4 == tag else { continue }
            guard let memory = accept(i, output: true, tag: tag, format: format, frame: frame, blocks: blocks, bytes: data.count) else { continue }
            blocksPlayed[dac, default: 0] += blocks
            guard let channels = ConverterPackets.slice(of: memory, offset: Int(state[i].streamChannel & 0xF), count: dump.nodes[i].channels) else { continue }
            for (pin, feeding) in routeCache where feeding == dac {
                guard let sink = sinks[pin] else { continue }
                ConverterPackets.deliver(data, blocks: blocks, memory: memory, channels: channels, to: sink, scratch: &scratch)
            }
        }
    }

    /// Input stream data: the first ADC set to `tag` fills its channels of the packet from
    /// the source of the pin it records now (silence without one). False when no ADC sends `tag`.
    public func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int,
                             into data: UnsafeMutableRawBufferPointer) -> Bool {
        guard tag != 0 else { return false }
        guard let adc = graph.adcs.first(where: { nodes[$0].map { state[$0].streamChannel >> 4 == tag } ?? false }),
              let i = nodes[adc] else { return false }
        guard let memory = accept(i, output: false, tag: tag, format: format, frame: frame, blocks: blocks, bytes: data.count) else {
            if let base = data.baseAddress { base.initializeMemory(as: UInt8.self, repeating: 0, count: data.count) }
            return true
        }
        let channels = ConverterPackets.slice(of: memory, offset: Int(state[i].streamChannel & 0xF), count: dump.nodes[i].channels)
        let source = pinFeeding(adc: adc).flatMap { sources[$0] }
        ConverterPackets.fill(data, blocks: blocks, memory: memory, channels: channels, from: source, scratch: &scratch)
        blocksRecorded[adc, default: 0] += blocks
        return true
    }
}

extension CodecDump {
    /// True when a converter's PCM parameters (or the function group's, without format
    /// override) list the format's rate and sample size and its stream formats include PCM.
    public func supports(_ format: StreamFormat, node n: Node) -> Bool {
        let own = n.wcaps & WidgetBits.formatOverride != 0
        let pcm = (own ? n.pcm : nil) ?? defaultPCM ?? 0
        let formats = (own ? n.streamFormats : nil) ?? defaultStreamFormats ?? 0
        guard formats & 1 != 0, let rate = CodecBits.pcmRates.firstIndex(of: format.sampleRate),
              let size = StreamFormat.legalSampleBits.firstIndex(of: format.validBitsPerSample) else { return false }
        return pcm & (1 << UInt32(rate)) != 0 && pcm & (1 << (CodecBits.pcmSizeShift + UInt32(size))) != 0
    }

    /// The converters (DACs for output, ADCs for input) that take the format's rate and
    /// sample size (`supports`), with their channel counts, in node order.
    public func converters(taking format: StreamFormat, output: Bool) -> [(node: UInt8, channels: Int)] {
        nodes.filter { $0.type == (output ? .audioOutput : .audioInput) && supports(format, node: $0) }.map { ($0.id, $0.channels) }
    }
}

public import HDAudio

/// Streams: converters playing and recording packets, and the mismatches they refuse.
extension VirtualCodec {

    func record(_ m: FormatMismatch) {
        formatMismatchCount += 1
        if formatMismatches.count < mismatchLogLimit { formatMismatches.append(m) }
        trace?(.mismatch(m))
    }

    /// Checks a converter against a packet; returns the memory format of the packet, or the fault.
    func check(converter w: Widget, format: ConverterFormat, blocks: Int, bytes: Int) -> Result<StreamFormat, StreamFault> {
        guard w.format == format.rawValue else { return .failure(.formatDiffers) }
        guard let decoded = try? format.decode() else { return .failure(.undecodableFormat) }
        guard configuration.supports(decoded) else { return .failure(.unsupportedFormat) }
        // The packet is in memory layout; its container size follows from its length.
        let samples = blocks * Int(decoded.numberOfChannels)
        guard samples > 0, bytes % samples == 0 else { return .failure(.badPacketLength) }
        let container = UInt16(bytes / samples * 8)
        guard StreamFormat.legalContainerSizes.contains(container), container >= decoded.validBitsPerSample else {
            return .failure(.badPacketLength)
        }
        var memory = decoded
        memory.containerSize = container
        return .success(memory)
    }

    /// Output stream data: every DAC listening to `tag` with the stream's format passes the
    /// samples (bits below the valid bits cleared) to its sink.
    public func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {
        guard tag != 0, blocks > 0 else { return }
        for (i, node) in dacNodes.enumerated() {
            let w = widgets[Int(node)]
            guard w.streamChannel >> 4 == tag else { continue }
            switch check(converter: w, format: format, blocks: blocks, bytes: data.count) {
            case .failure(let fault):
                record(FormatMismatch(node: node, isOutput: true, tag: tag, frame: frame, blocks: blocks,
                                      converterFormat: ConverterFormat(rawValue: w.format), streamFormat: format, fault: fault))
            case .success(let memory):
                blocksPlayed[i] += blocks
                guard let sink = sinks[i] else { continue }
                let layout = PCMLayout(memoryOf: memory)
                if layout.validBits == layout.containerBytes * 8 {
                    sink.consume(data, blocks: blocks, format: memory)
                } else {
                    if scratch.count < data.count { scratch = [UInt8](repeating: 0, count: data.count) }
                    scratch.withUnsafeMutableBytes { d in
                        PCMLayout.convert(data, from: layout, into: d, to: layout, blocks: blocks)
                        sink.consume(UnsafeRawBufferPointer(rebasing: d[0..<data.count]), blocks: blocks, format: memory)
                    }
                }
            }
        }
    }

    /// Input stream data: the first ADC sending `tag` fills `data` from its source (or with
    /// silence) in the stream's format. False when no ADC sends `tag`.
    public func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int,
                             into data: UnsafeMutableRawBufferPointer) -> Bool {
        guard tag != 0 else { return false }
        guard let i = adcNodes.firstIndex(where: { widgets[Int($0)].streamChannel >> 4 == tag }) else { return false }
        let node = adcNodes[i]
        let w = widgets[Int(node)]
        switch check(converter: w, format: format, blocks: blocks, bytes: data.count) {
        case .failure(let fault):
            record(FormatMismatch(node: node, isOutput: false, tag: tag, frame: frame, blocks: blocks,
                                  converterFormat: ConverterFormat(rawValue: w.format), streamFormat: format, fault: fault))
            if let base = data.baseAddress { base.initializeMemory(as: UInt8.self, repeating: 0, count: data.count) }
        case .success(let memory):
            let layout = PCMLayout(memoryOf: memory)
            if let source = sources[i] {
                _ = source.produce(into: data, blocks: blocks, format: memory)
                if layout.validBits != layout.containerBytes * 8 {
                    // Only the valid bits travel on the link.
                    PCMLayout.convert(UnsafeRawBufferPointer(data), from: layout, into: data, to: layout, blocks: blocks)
                }
            } else {
                layout.fillSilence(data, blocks: blocks)
            }
            blocksRecorded[i] += blocks
        }
        return true
    }
}

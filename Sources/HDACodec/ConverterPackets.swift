import HDAudio

/// What every codec's converters do with a stream packet: check it against the converter's
/// format, and hand a converter's channels of it to a sink, or fill them from a source.
/// `VirtualCodec` and `DumpCodec` share it.
enum ConverterPackets {
    /// The memory format of a packet a converter set to `converterFormat` can take, or why not:
    /// the formats must be equal, decodable and `supports` must take it, and the packet whole blocks.
    static func check(converterFormat: UInt16, format: ConverterFormat, blocks: Int, bytes: Int,
                      supports: (StreamFormat) -> Bool) -> Result<StreamFormat, StreamFault> {
        guard converterFormat == format.rawValue else { return .failure(.formatDiffers) }
        guard let decoded = try? format.decode() else { return .failure(.undecodableFormat) }
        guard supports(decoded) else { return .failure(.unsupportedFormat) }
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

    /// The channels `offset ..< offset + count` of a stream of `memory` format, clipped to the
    /// stream's channels; nil when none is left.
    static func slice(of memory: StreamFormat, offset: Int, count: Int) -> Range<Int>? {
        let n = Int(memory.numberOfChannels)
        let lo = min(max(0, offset), n), hi = min(n, lo + max(0, count))
        return lo < hi ? lo..<hi : nil
    }

    /// Hands `channels` of a packet to a sink, with the bits below the valid bits cleared
    /// (only those travel on the link). `scratch` is reused between calls.
    static func deliver(_ data: UnsafeRawBufferPointer, blocks: Int, memory: StreamFormat, channels: Range<Int>,
                        to sink: any SampleSink, scratch: inout [UInt8]) {
        let layout = PCMLayout(memoryOf: memory)
        let whole = channels.count == layout.channels
        if whole && layout.validBits == layout.containerBytes * 8 {
            sink.consume(data, blocks: blocks, format: memory)
            return
        }
        var out = memory
        out.numberOfChannels = UInt16(channels.count)
        let outLayout = PCMLayout(memoryOf: out)
        let bytes = blocks * outLayout.blockBytes
        if scratch.count < bytes { scratch = [UInt8](repeating: 0, count: bytes) }
        scratch.withUnsafeMutableBytes { d in
            let dst = UnsafeMutableRawBufferPointer(rebasing: d[0..<bytes])
            if whole {
                PCMLayout.convert(data, from: layout, into: dst, to: layout, blocks: blocks)
            } else {
                let cb = layout.containerBytes, inBlock = layout.blockBytes, outBlock = outLayout.blockBytes
                let start = channels.lowerBound * cb
                for b in 0..<blocks {
                    dst.baseAddress!.advanced(by: b * outBlock)
                        .copyMemory(from: data.baseAddress!.advanced(by: b * inBlock + start), byteCount: outBlock)
                }
                PCMLayout.convert(UnsafeRawBufferPointer(dst), from: outLayout, into: dst, to: outLayout, blocks: blocks)
            }
            sink.consume(UnsafeRawBufferPointer(dst), blocks: blocks, format: out)
        }
    }

    /// Fills `channels` of a packet from a source (silence in the other channels, and
    /// everywhere without a source), keeping only the valid bits.
    static func fill(_ data: UnsafeMutableRawBufferPointer, blocks: Int, memory: StreamFormat, channels: Range<Int>?,
                     from source: (any SampleSource)?, scratch: inout [UInt8]) {
        let layout = PCMLayout(memoryOf: memory)
        guard let source, let channels else { layout.fillSilence(data, blocks: blocks); return }
        if channels.count == layout.channels {
            _ = source.produce(into: data, blocks: blocks, format: memory)
        } else {
            layout.fillSilence(data, blocks: blocks)
            var part = memory
            part.numberOfChannels = UInt16(channels.count)
            let partLayout = PCMLayout(memoryOf: part)
            let bytes = blocks * partLayout.blockBytes
            if scratch.count < bytes { scratch = [UInt8](repeating: 0, count: bytes) }
            scratch.withUnsafeMutableBytes { s in
                let src = UnsafeMutableRawBufferPointer(rebasing: s[0..<bytes])
                _ = source.produce(into: src, blocks: blocks, format: part)
                let cb = layout.containerBytes, outBlock = layout.blockBytes, inBlock = partLayout.blockBytes
                let start = channels.lowerBound * cb
                for b in 0..<blocks {
                    data.baseAddress!.advanced(by: b * outBlock + start)
                        .copyMemory(from: src.baseAddress!.advanced(by: b * inBlock), byteCount: inBlock)
                }
            }
        }
        if layout.validBits != layout.containerBytes * 8 {
            PCMLayout.convert(UnsafeRawBufferPointer(data), from: layout, into: data, to: layout, blocks: blocks)
        }
    }
}

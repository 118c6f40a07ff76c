import HDAudio

/// **Decision: buffer alignment in the BDL.**
///
/// The HD Audio specification (the Buffer Descriptor List Entry) asks for every buffer
/// address to be 128-byte aligned, and Azalia enforces it by default: a misaligned buffer
/// is a descriptor error (DESE, RUN cleared), so a driver written against the document
/// finds its mistake.
///
/// Linux's snd-hda-intel breaks that rule on purpose. With `bdl_pos_adj` (one frame on
/// Intel controllers) it puts a first BDL entry of one frame (4 bytes for 16-bit stereo)
/// in front of the periods, so every later buffer starts 4 bytes past a boundary. Intel's
/// controllers accept it, and QEMU's intel-hda checks no alignment at all. A controller that
/// a stock Linux guest drives must accept it too, so the guest bridge sets
/// `bufferAlignment` to `relaxedBufferAlignment`: buffers on any byte, everything else
/// checked as before (RAM only, length non-zero, CBL within the list, LVI + 1 entries).
extension HDAController {
    /// The alignment a real-world driver gets: any byte.
    public static let relaxedBufferAlignment: UInt64 = 1
}

import Testing
@testable import HDACodec

import FPGACluster
import Testing

@Suite("error messages: one line, no command-line flags")
struct ErrorMessageTests {
    /// One of every case; the tools add flag hints, the library states the fact.
    static let errors: [any Error & CustomStringConvertible] = [
        ClusterError.noDevices, NodeError.programUnavailable("gzip", node: "sim0"),
        ClusterError.workerLost("host:1", reason: "reset"), ClusterError.noWorkersLeft("reset"),
        ClusterError.remoteRunFailed("host:1", code: 5, message: "bad"), NodeError.notRemotable("x"),
        NodeError.invalidParameters("gzip", reason: "chunk size 0"), NodeError.notRecoverable(node: "sim0"),
        ConfigurationError.invalidChunkSize(1, range: 2...3), ConfigurationError.invalidBatchSize(0, range: 1...2),
        FileJobError.inputNotFound("a"), FileJobError.inputIsDirectory("a"),
        FileJobError.inputUnreadable("a", reason: "EIO"), FileJobError.outputExists("a.gz"),
        FileJobError.outputUnwritable("a.gz", reason: "EROFS"), FileJobError.sameFile("a"),
        ClassificationError.noClassifier(model: nil), ClassificationError.noClassifier(model: "cnv-0"),
    ]

    @Test func messagesNameNoFlags() {
        for error in Self.errors {
            #expect(!error.description.isEmpty && !error.description.contains("\n"), "\(error)")
            #expect(!error.description.contains("--"), "\(error)")
        }
        #expect(FileJobError.outputExists("big.log.gz").description == "big.log.gz already exists")
    }

    @Test func onlyWorkerLossIsRetried() {
        #expect(ClusterError.isWorkerLoss(ClusterError.workerLost("host:1", reason: "reset")))
        #expect(!ClusterError.isWorkerLoss(ClusterError.noWorkersLeft("reset")))
        #expect(!ClusterError.isWorkerLoss(FileJobError.outputExists("a")))
    }
}

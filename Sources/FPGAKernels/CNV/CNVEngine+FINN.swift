extension CNVEngine: FINNNetwork {
    /// One NHWC CIFAR-10 image: 32 x 32 x 3 bytes (``CNVModel/imageBytes``).
    ///
    /// With this, a ``FINNDataflow`` runs the engine behind `idma0`/`odma0`, bound to the
    /// engine's model as a FINN bitstream is bound to the weights it was built with:
    ///
    /// ```swift
    /// let dataflow = FINNDataflow(network: try CNVEngine(model: model))
    /// let device = SimulatedDevice(name: "sim0", kernels: dataflow.kernels)
    /// try await device.loadXclbin(.finnClassifier())
    /// ```
    public var inputBytesPerImage: Int { CNVModel.imageBytes }
}

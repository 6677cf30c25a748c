//! Fake AWS Bedrock runtime (Converse, ConverseStream with binary event-stream frames).

//! AWS Bedrock through `aws-sdk-bedrockruntime` (Converse / ConverseStream).

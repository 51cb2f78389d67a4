import os

# transformers wraps its BitNet quantizers in torch.compile; compiling them takes minutes on a
# small CI machine and computes the same math as eager mode, which is the reference here.
os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")

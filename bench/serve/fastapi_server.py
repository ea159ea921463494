"""FastAPI + uvicorn + onnxruntime serving Kiln's exported ONNX graph of the German credit model,
for the side-by-side benchmark only. Usage: python fastapi_server.py MODEL.onnx SIGNATURE.json PORT"""
import json
import sys

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI, Request

model_path, signature_path, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
signature = json.load(open(signature_path))
options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
inputs = signature["inputs"]
classes = signature["classes"]
app = FastAPI()


def feeds(rows):
    out = {}
    for i in inputs:
        name = i["name"]
        if i["type"] == "string":
            out[name] = np.array([["" if r.get(name) is None else str(r[name])] for r in rows], dtype=object)
        else:
            out[name] = np.array([[np.nan if r.get(name) is None else float(r[name])] for r in rows], dtype=np.float32)
    return out


@app.post("/v1/models/credit-risk/predict")
async def predict(request: Request):
    body = await request.json()
    batch = "rows" in body
    rows = body["rows"] if batch else [body]
    probabilities, labels = session.run(["probabilities", "label"], feeds(rows))
    answers = [
        {"label": str(label), "probabilities": dict(zip(classes, map(float, p)))}
        for p, label in zip(probabilities, labels)
    ]
    head = {"model": "credit-risk", "version": 1}
    return {**head, "predictions": answers} if batch else {**head, **answers[0]}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)

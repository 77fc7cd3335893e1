import json, time, urllib.request, concurrent.futures, sys
K="test-dev-key"; B="http://127.0.0.1:8000"
N=int(sys.argv[1]) if len(sys.argv)>1 else 400
def req(method, path, body=None):
    r=urllib.request.Request(B+path, method=method, data=json.dumps(body).encode() if body else None, headers={"X-Api-Key":K,"Content-Type":"application/json"})
    try:
        with urllib.request.urlopen(r) as resp: return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e: return e.code, json.loads(e.read())
t0=time.time()
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    ids=list(ex.map(lambda i: req("POST","/v1/jobs",{"payload":{"type":"embedding","prompt":f"sentence number {i} about the grid"},"ttl_seconds":600})[1]["job_id"], range(N)))
t1=time.time()
pending=set(ids)
while pending:
    time.sleep(0.1)
    s,b=req("GET","/v1/jobs?limit=1000&status=queued,running")
    pending &= {i["job_id"] for i in b["items"]}
t2=time.time()
print(f"submitted {N} in {t1-t0:.2f}s ({N/(t1-t0):.0f}/s); all done after {t2-t0:.2f}s => {N/(t2-t0):.1f} embedding jobs/s end to end")

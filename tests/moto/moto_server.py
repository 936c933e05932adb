"""moto's server for authhooks' tests, with FIFO receive and DynamoDB writes fixed.

Run as `python3 tests/moto/moto_server.py -H 127.0.0.1 -p PORT`; the Rust tests
(tests/src/moto.rs) and the TypeScript tests (packages/testkit) both start moto this way.
Why each patch exists is explained in tests/src/moto.rs (FIFO_ORDER_FIX).
"""
import copy, sys, threading, time
from moto.sqs import models
B = models.SQSBackend
one_at_a_time = threading.RLock()
def serialized(f):
    def g(*args, **kwargs):
        with one_at_a_time:
            return f(*args, **kwargs)
    return g
B.delete_message = serialized(B.delete_message)
B.change_message_visibility = serialized(B.change_message_visibility)
from moto.dynamodb import models as dynamodb
D, one_write_at_a_time = dynamodb.DynamoDBBackend, threading.RLock()
for name in ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items"):
    def write(f):
        def g(*args, **kwargs):
            with one_write_at_a_time:
                return f(*args, **kwargs)
        return g
    setattr(D, name, write(getattr(D, name)))
def take(self, queue, count, visibility_timeout, attribute_names):
    in_flight = {m.group_id for m in queue._messages if not m.visible}
    result, to_dlq = [], []
    for m in list(queue._messages):
        if len(result) >= count:
            break
        if not m.visible or m.group_id in in_flight:
            continue
        policy = queue.redrive_policy
        if queue.dead_letter_queue is not None and policy and m.approximate_receive_count >= policy["maxReceiveCount"]:
            to_dlq.append(m)
            continue
        queue.pending_messages.add(m)
        m.mark_received(visibility_timeout=visibility_timeout)
        out = copy.deepcopy(m)
        models._filter_message_attributes(out, attribute_names)
        result.append(out)
    for m in to_dlq:
        queue._messages.remove(m)
        queue.dead_letter_queue.add_message(m)
    return result
moto_receive = B.receive_message
def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None):
    queue = self.get_queue(queue_name)
    if not queue.fifo_queue:
        return moto_receive(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names)
    deadline = time.time() + wait_seconds_timeout
    while True:
        with one_at_a_time:
            got = take(self, queue, count, visibility_timeout, message_attribute_names or [])
        if got or time.time() >= deadline:
            return got
        time.sleep(0.02)
B.receive_message = receive_message
from moto.server import main
main(sys.argv[1:])

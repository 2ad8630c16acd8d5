package livebind

// eventQueue is a subscriber's FIFO of undelivered events. Events are taken
// from head; the slots before it are reused once the queue drains or the
// backing array is full and half of it is free (see push), so a subscriber
// that keeps up queues without allocating. A drained queue gives back a
// backing array that grew past DefaultBuffer events (a subscriber's own
// larger buffer, under a burst).
type eventQueue struct {
	buf  []event
	head int
}

// keepCap is the largest backing array a drained queue keeps.
const keepCap = DefaultBuffer

func (q *eventQueue) len() int { return len(q.buf) - q.head }

// pending returns the queued events, oldest first; it aliases the queue.
func (q *eventQueue) pending() []event { return q.buf[q.head:] }

// push appends ev, first moving the queued events to the front when the
// array is full and at least half of it is free slots before head; with
// fewer free slots append grows the array instead. Moving only then keeps
// the cost of a full queue that drops its oldest event on every push (a
// stalled subscriber at its Buffer) at under one moved event per push,
// where moving for every free slot would move the whole queue each time.
func (q *eventQueue) push(ev event) {
	if q.head > 0 && len(q.buf) == cap(q.buf) && q.head >= len(q.buf)/2 {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, ev)
}

// pop takes the oldest event.
func (q *eventQueue) pop() (event, bool) {
	if q.len() == 0 {
		return event{}, false
	}
	ev := q.buf[q.head]
	q.buf[q.head] = event{}
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
		if cap(q.buf) > keepCap {
			q.buf = nil
		}
	}
	return ev, true
}

// remove takes out the i-th pending event, keeping the others in order.
func (q *eventQueue) remove(i int) {
	i += q.head
	copy(q.buf[i:], q.buf[i+1:])
	q.buf[len(q.buf)-1] = event{}
	q.buf = q.buf[:len(q.buf)-1]
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
}

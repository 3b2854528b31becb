package tenant

import (
	"io/fs"
	"runtime"
	"sync"
)

// The bulk of a large Graph export is its users pages and its member
// pages: they are parsed on several goroutines (at most GOMAXPROCS, at
// most 4), each with a name table of its own, and applied to the builder
// in page order on the loading goroutine. What a page does to the
// snapshot, and which error is reported first, are the same as reading
// the pages one by one; only the parsing overlaps.

// pageJob is one page to parse off the loading goroutine, with the source
// prefixes the builder made for it.
type pageJob struct {
	name, file         string
	valuePfx, arrayPfx int32
	group              string // member pages: the group
}

func (j pageJob) prefixFor(path string) int32 {
	if path == "$" {
		return j.arrayPfx
	}
	return j.valuePfx
}

// pageResult is what a worker read from one page.
type pageResult struct {
	info pageInfo
	// names is the worker's name table as it was when the page was read:
	// the table only grows, so this prefix stays as it is.
	names   []string
	users   []userRec
	members []memberRef
	err     error
}

func (g *graphLoader) jobsFor(pages []page, kind prefixKind, group string) []pageJob {
	jobs := make([]pageJob, len(pages))
	for i, p := range pages {
		file := g.disp(p.name)
		fid := g.b.srcs.file(file)
		jobs[i] = pageJob{name: p.name, file: file, group: group,
			valuePfx: g.b.srcs.prefix(fid, "$.value", kind), arrayPfx: g.b.srcs.prefix(fid, "$", kind)}
	}
	return jobs
}

// pageWorkers is how many goroutines parse pages.
func pageWorkers(jobs int) int { return max(1, min(runtime.GOMAXPROCS(0), 4, jobs)) }

// readPages parses jobs with parse on pageWorkers goroutines (parse gets
// the worker's number) and calls apply with each result in job order. At
// most twice as many pages as workers are parsed ahead of apply, which
// bounds memory.
func readPages(jobs []pageJob, parse func(int, pageJob, *pageResult), apply func(int, *pageResult) error) error {
	workers := pageWorkers(len(jobs))
	if workers <= 1 {
		for i, j := range jobs {
			var r pageResult
			parse(0, j, &r)
			if err := apply(i, &r); err != nil {
				return err
			}
		}
		return nil
	}
	results := make([]chan *pageResult, len(jobs))
	for i := range results {
		results[i] = make(chan *pageResult, 1)
	}
	next := make(chan int)
	done := make(chan struct{})
	ahead := make(chan struct{}, 2*workers)
	var wg sync.WaitGroup
	defer func() {
		close(done)
		wg.Wait()
	}()
	wg.Go(func() {
		defer close(next)
		for i := range jobs {
			select {
			case ahead <- struct{}{}:
			case <-done:
				return
			}
			select {
			case next <- i:
			case <-done:
				return
			}
		}
	})
	for w := range workers {
		wg.Go(func() {
			for i := range next {
				r := &pageResult{}
				parse(w, jobs[i], r)
				results[i] <- r
			}
		})
	}
	for i := range jobs {
		r := <-results[i]
		<-ahead
		if err := apply(i, r); err != nil {
			return err
		}
	}
	return nil
}

// remap maps a worker's name ids to the builder's.
func (n *names) remap(local []string) []int32 {
	ids := make([]int32, len(local))
	for i, name := range local {
		ids[i] = n.intern(name)
	}
	return ids
}

// userPages reads the users collection's pages in parallel.
func (g *graphLoader) userPages(fsys fs.FS, pages []page, kind prefixKind) ([]pageInfo, error) {
	jobs := g.jobsFor(pages, kind, "")
	infos := make([]pageInfo, len(jobs))
	parsers := make([]pageParser, pageWorkers(len(jobs)))
	tables := make([]names, len(parsers))
	for w := range parsers {
		tables[w] = newNames()
		parsers[w].names = &tables[w]
	}
	parse := func(w int, j pageJob, r *pageResult) {
		p := &parsers[w]
		r.users = make([]userRec, 0, 1000) // Graph's largest page is 999
		var nulls []int32                  // the page's explicit nulls, one slice for all its users
		r.info, r.err = readPageFile(fsys, j.name, j.file, j.prefixFor, func(e *elemCtx, v jv, i int, pfx int32, info *pageInfo) error {
			rec, err := p.user(e, v, i, pfx, graphUserODataType)
			if err != nil {
				return err
			}
			if rec.removed != "" {
				info.delta = true
			}
			rec.set, rec.compacted = compact(p.names, rec.kvs), true
			start := len(nulls)
			for _, e := range rec.kvs {
				if e.null {
					nulls = append(nulls, e.name)
				}
			}
			rec.nulls, rec.kvs = nulls[start:len(nulls):len(nulls)], nil
			r.users = append(r.users, rec)
			return nil
		})
		r.names = p.names.list
	}
	apply := func(i int, r *pageResult) error {
		if r.err != nil {
			return r.err
		}
		ids := g.b.names.remap(r.names)
		for k := range r.users {
			u := &r.users[k]
			for x := range u.set.attrs {
				u.set.attrs[x].name = ids[u.set.attrs[x].name]
			}
			for x := range u.nulls {
				u.nulls[x] = ids[u.nulls[x]]
			}
			g.b.addUser(u, true)
		}
		infos[i] = r.info
		return nil
	}
	return infos, readPages(jobs, parse, apply)
}

// memberPageSets reads every group's member pages, in parallel across
// pages, and sets each group's members once its last page is applied.
func (g *graphLoader) memberPageSets(fsys fs.FS, gids []string, pages map[string][]page) error {
	var jobs []pageJob
	for _, gid := range gids {
		jobs = append(jobs, g.jobsFor(pages[gid], prefixGraphOther, gid)...)
	}
	parse := func(_ int, j pageJob, r *pageResult) {
		r.info, r.err = readPageFile(fsys, j.name, j.file, j.prefixFor, func(e *elemCtx, v jv, i int, pfx int32, info *pageInfo) error {
			ref, err := member(e, v, "", srcRef{prefix: pfx, elem: int32(i), line: int32(e.line)})
			if ref.removed {
				info.delta = true
			}
			r.members = append(r.members, ref)
			return err
		})
	}
	var refs []memberRef
	apply := func(i int, r *pageResult) error {
		if r.err != nil {
			return r.err
		}
		for _, m := range r.members {
			if m.removed {
				refs = applyMemberDelta(refs, []memberRef{m})
			} else {
				refs = append(refs, m)
			}
		}
		j := jobs[i]
		if i+1 < len(jobs) && jobs[i+1].group == j.group {
			return nil
		}
		g.groupMembers(j.group, pages[j.group], refs, r.info)
		refs = nil
		return nil
	}
	return readPages(jobs, parse, apply)
}

/* SPDX-License-Identifier: MIT */
/* The sim: one context's objects and area lookup, opening it with its
 * model, and the entry points beyond the ops table. */
#include "iommu/sim-internal.h"

/* ------------------------------------------------------------ objects */

struct sim_ioas *sim_get_ioas(struct sim *s, uint32_t id)
{
	struct sim_ioas key = { .id = id };

	return RB_FIND(sim_ioas_tree, &s->objects, &key);
}

/* xa_alloc(XA_FLAGS_ALLOC1, xa_limit_31b): lowest free id >= 1, over
 * IOASes and HWPTs alike (one id space per context). */
int sim_alloc_id(struct sim *s, uint32_t *ret_id)
{
	struct sim_ioas *o = RB_MIN(sim_ioas_tree, &s->objects);
	struct sim_hwpt *h = RB_MIN(sim_hwpt_tree, &s->hwpts);
	struct sim_fault *f = RB_MIN(sim_fault_tree, &s->faults);
	uint32_t want = 1;

	for (;;) {
		if (o && o->id == want)
			o = RB_NEXT(sim_ioas_tree, &s->objects, o);
		else if (h && h->id == want)
			h = RB_NEXT(sim_hwpt_tree, &s->hwpts, h);
		else if (f && f->id == want)
			f = RB_NEXT(sim_fault_tree, &s->faults, f);
		else
			break;
		if (want == SIM_ID_MAX)
			return -EBUSY;
		want++;
	}
	*ret_id = want;
	return 0;
}

static void sim_ioas_free_areas(struct sim_ioas *io)
{
	struct sim_area *a, *next;

	RB_FOREACH_SAFE(a, sim_area_tree, &io->areas, next) {
		RB_REMOVE(sim_area_tree, &io->areas, a);
		free(a);
	}
}

void sim_ioas_free(struct sim_ioas *io)
{
	struct sim_domain *d;

	if (!io)
		return;
	while ((d = LIST_FIRST(&io->domains))) {
		LIST_REMOVE(d, link);
		free(d->reserved);
		free(d);
	}
	sim_ioas_free_areas(io);
	free(io->allowed);
	free(io->reserved);
	free(io);
}

/* ------------------------------------------------------------ area lookup */

/* The lowest area intersecting [first, last] (iopt_area_iter_first). */
struct sim_area *sim_area_first(struct sim_ioas *io, uint64_t first,
				uint64_t last)
{
	struct sim_area key = { .iova = first };
	struct sim_area *n = RB_MAX(sim_area_tree, &io->areas), *p;

	/* Past the last one: the right spine only. */
	if (!n || n->last < first)
		return NULL;
	n = RB_NFIND(sim_area_tree, &io->areas, &key);
	p = n ? RB_PREV(sim_area_tree, &io->areas, n) :
		RB_MAX(sim_area_tree, &io->areas);
	if (p && p->last >= first)
		return p;
	if (n && n->iova <= last)
		return n;
	return NULL;
}

bool ranges_intersect(const struct backend_iova_range *r, size_t n,
		      uint64_t first, uint64_t last)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].start > last)
			break; /* sorted by start */
		if (r[i].last >= first)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ public */

int backend_sim_open_model(const struct backend_model *m, struct backend **ret)
{
	char model[BACKEND_MODEL_STRLEN];
	struct sim *s;

	if (m->page_size < 4096 || (m->page_size & (m->page_size - 1)) ||
	    (m->thp && (m->hpage_size <= m->page_size ||
			(m->hpage_size & (m->hpage_size - 1)))))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->b.ops = &sim_ops;
	s->b.has_map_file = true; /* models a kernel with IOMMU_IOAS_MAP_FILE */
	s->model = *m;
	if (!s->model.thp)
		s->model.hpage_size = 0;
	backend_model_format(&s->model, model, sizeof(model));
	snprintf(s->b.description, sizeof(s->b.description), "sim %s", model);
	RB_INIT(&s->objects);
	RB_INIT(&s->hwpts);
	RB_INIT(&s->faults);
	LIST_INIT(&s->pasids);
	s->account_mode = SIM_ACCOUNT_USER; /* iommufd_fops_open on /dev/iommu */
	sim_bindings_get();
	*ret = &s->b;
	return 0;
}

int backend_sim_open(struct backend **ret)
{
	struct backend_model m;
	int r = backend_model_init(&m, -1, 0);

	if (r < 0)
		return r;
	return backend_sim_open_model(&m, ret);
}

const struct backend_model *backend_sim_model(const struct backend *b)
{
	return b && b->ops == &sim_ops ? &to_sim((struct backend *)b)->model : NULL;
}

void backend_sim_set_map_file(struct backend *b, bool has_map_file)
{
	if (b && b->ops == &sim_ops)
		b->has_map_file = has_map_file;
}

void backend_sim_set_fds_held(struct backend *b, bool held)
{
	if (b && b->ops == &sim_ops)
		to_sim(b)->fds_held = held;
}

int backend_sim_attach_reserved(struct backend *b, uint32_t ioas,
				const struct backend_iova_range *reserved,
				uint32_t num, uint64_t alignment)
{
	struct sim_ioas *io;

	if (!b || b->ops != &sim_ops)
		return -EINVAL;
	io = sim_get_ioas(to_sim(b), ioas);
	if (!io)
		return -ENOENT;
	return sim_domain_add(io, NULL, reserved, num, alignment);
}

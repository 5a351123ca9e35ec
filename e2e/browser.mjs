// The browser gate: real flows through the board's pages in headless Chromium,
// axe-core on every page type at desktop and phone widths (contrast in the dark
// colour scheme too), no sideways scrolling on a phone, and screenshots of the
// main pages. Started by e2e/browser-check.sh, which serves the board and
// passes where it is:
//
//   BASE     the board's address (http://127.0.0.1:PORT)
//   DATA     its data dir (mail arrives as files in DATA/outbox)
//   EXPORT   `jobboard export` of the board before the run (JSON Lines)
//   ADMIN_EMAIL, ADMIN_PASSWORD   an admin made with `jobboard admin create`
//   SHOTS    where screenshots go; CHROMIUM the browser
//
// Every check that fails is reported and the run goes on to the next flow; the
// exit status is 1 when anything failed. A flow's first failed step ends that
// flow (the later steps would only fail for the same reason).

import {
    ADMIN_EMAIL, ADMIN_PASSWORD, BASE, JOBS, RUN, actor, audit, click, contexts,
    expect, expectHeading, expectText, field, flow, jobById, jobId, launch,
    linkIn, mailTo, open, resultCount, search, shoot, signIn, summary,
} from './browser-support.mjs';

// ---------------------------------------------------------------------------
// The flows

const employer = {
    email: `maps-${RUN}@atlas.example`,
    password: 'violet tractor under moonlight',
    title: `Cartographer ${RUN}`,
    company: `Atlas Maps ${RUN}`,
    id: null,
};
async function visitorFlow() {
    const page = await actor('visitor');
    await open(page, '/');
    await expectHeading(page, /\S/);
    expect(await resultCount(page) > 0, 'the home page lists no job');
    // The first Tab shows the skip link, which leads to the content.
    await page.keyboard.press('Tab');
    const skip = await page.evaluate(() => ({
        text: document.activeElement.textContent.trim(),
        top: document.activeElement.getBoundingClientRect().top,
    }));
    expect(skip.text === 'Skip to content' && skip.top >= 0, `the first Tab focuses "${skip.text}" at ${skip.top} px`);
    await page.keyboard.press('Enter');
    expect(new URL(page.url()).hash === '#main', `the skip link led to ${page.url()}`);
    await audit(page, 'home');
    await shoot(page, 'home');

    await click(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }));
    expect(new URL(page.url()).pathname === '/jobs', `the Jobs link led to ${page.url()}`);
    await audit(page, 'jobs');
    await click(page, page.getByRole('link', { name: 'Next page' }));
    await expectText(page, /Page 2 of \d+/);
    await audit(page, 'jobs-page-2');

    // Search, then narrow down with the filters: the region and job type
    // with the most jobs among the results.
    await search(page, 'engineer');
    const found = await resultCount(page);
    expect(found > 0, 'no job found for "engineer"');
    const filters = page.locator('form.filters__form');
    const region = await filters.locator('label.check').evaluateAll((labels) => labels
        .map((l) => ({ label: l.innerText.replace(/\s*\(\d+\)$/, '').trim(), n: Number((l.innerText.match(/\((\d+)\)$/) || [])[1] || 0) }))
        .sort((a, b) => b.n - a.n)[0]);
    expect(region && region.n > 0, 'no region filter has a job');
    await filters.getByLabel(region.label).check();
    await click(page, filters.getByRole('button', { name: 'Apply filters' }));
    const url = new URL(page.url());
    expect(url.searchParams.get('q') === 'engineer' && url.searchParams.getAll('remote').length === 1,
        `filtering by ${region.label} led to ${page.url()}`);
    const filtered = await resultCount(page);
    expect(filtered > 0 && filtered <= found, `${filtered} jobs after filtering by ${region.label}, from ${found}`);
    await expectText(page, region.label, page.getByRole('list', { name: 'Active filters' }));
    const type = await filters.getByLabel('Job type').locator('option').evaluateAll((options) => options
        .map((o) => ({ value: o.value, n: Number((o.textContent.match(/\((\d+)\)$/) || [])[1] || 0) }))
        .filter((o) => o.value && o.n > 0)
        .sort((a, b) => b.n - a.n)[0]);
    expect(type, 'no job type has a job among the results');
    await filters.getByLabel('Job type').selectOption(type.value);
    await click(page, filters.getByRole('button', { name: 'Apply filters' }));
    expect(new URL(page.url()).searchParams.get('job_type') === type.value, `filtering by job type led to ${page.url()}`);
    expect(await resultCount(page) === type.n, `the job type said ${type.n} jobs, the results ${await resultCount(page)}`);
    await audit(page, 'search');
    await shoot(page, 'search');

    // A job, and applying to it.
    const card = page.locator('.job-card__title a').first();
    const title = (await card.innerText()).trim();
    await click(page, card);
    await expectHeading(page, title);
    const job = jobById(jobId(page.url()));
    expect(job, `no job in the export for ${page.url()}`);
    await audit(page, 'job');
    await shoot(page, 'job');
    const apply = page.getByRole('link', { name: 'Apply for this job' }).first();
    expect(await apply.getAttribute('href') === `/jobs/${job.id}/apply`, `the apply button links to ${await apply.getAttribute('href')}`);
    if (job.apply_url) {
        // The board counts the click and redirects to the employer's site.
        // The browser gets a stand-in for that site instead: leaving for an
        // address that does not resolve swaps the page's process, which
        // Playwright does not always follow.
        const target = `${BASE}/jobs/${job.id}/apply`;
        let answer = null;
        await page.route(target, async (route) => {
            const res = await route.fetch({ maxRedirects: 0 });
            answer = { status: res.status(), location: res.headers().location };
            await route.fulfill({ contentType: 'text/html', body: '<!doctype html><html lang="en"><title>Elsewhere</title><h1>The employer\'s page</h1></html>' });
        });
        await click(page, apply);
        await page.unroute(target);
        expect(answer && [302, 303, 307].includes(answer.status) && answer.location === job.apply_url,
            `the apply button answered ${answer?.status} to ${answer?.location}, expected a redirect to ${job.apply_url}`);
        console.log(`  the apply button of "${job.title}" leads to ${answer.location}`);
        await page.goBack();
    } else {
        await click(page, apply);
        await expectText(page, job.apply_email);
        await page.goBack();
    }

    // Its company.
    await click(page, page.locator('.job__company a'));
    await expectHeading(page, job.company.name);
    await expectText(page, title);
    await audit(page, 'company');
    await shoot(page, 'company');

    // A job applied to by email.
    await click(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }));
    await search(page, 'Mail Role');
    await click(page, page.getByRole('link', { name: 'Mail Role', exact: true }));
    await expectHeading(page, 'Mail Role');
    await click(page, page.getByRole('link', { name: 'Apply for this job' }).first());
    await expectHeading(page, 'Apply for Mail Role');
    await expectText(page, 'Apply by email to jobs@mail.example');
    const mailto = await page.getByRole('link', { name: 'Write the email' }).getAttribute('href');
    expect(mailto.startsWith('mailto:jobs@mail.example?subject=Application'), `the email button links to ${mailto}`);
    await audit(page, 'apply-email');

    // Chinese, Japanese and Korean words are found; a job in Chinese.
    await search(page, '工程師');
    expect(await resultCount(page) > 0, 'no job found for 工程師');
    await audit(page, 'search-cjk');
    const cjk = page.locator('.job-card__title a').first();
    const cjkTitle = (await cjk.innerText()).trim();
    await click(page, cjk);
    await expectHeading(page, cjkTitle);
    await audit(page, 'job-chinese');

    // A search that finds nothing says how to find more.
    await search(page, 'zzzzqqqq');
    await page.locator('form.filters__form').getByLabel('Category').selectOption('design');
    await click(page, page.getByRole('button', { name: 'Apply filters' }));
    expect(await resultCount(page) === 0, 'zzzzqqqq found jobs');
    await expectText(page, 'No jobs match this search.');
    await audit(page, 'search-empty');

    // A closed job keeps its page, without an apply button.
    const closed = JOBS.find((j) => j.title === 'Closed Role');
    await open(page, `/jobs/${closed.id}`);
    await expectHeading(page, 'Closed Role');
    await expectText(page, 'This job is no longer open.');
    expect(await page.getByRole('link', { name: 'Apply for this job' }).count() === 0, 'a closed job has an apply button');
    await audit(page, 'job-closed');

    await open(page, '/no/such/page', 404);
    await audit(page, 'not-found');
}

async function employerPostsFlow() {
    const page = await actor('employer');
    await open(page, '/');
    await click(page, page.getByRole('link', { name: 'Post a job' }));
    await expectHeading(page, 'Post a job');
    await audit(page, 'post');
    await shoot(page, 'post');

    // A half-filled form comes back with its errors beside the fields.
    await page.getByLabel('Job title').fill(employer.title);
    await page.getByLabel('From', { exact: true }).fill('lots');
    await click(page, page.getByRole('button', { name: 'Continue to preview' }), 422);
    await expectText(page, /Please correct the \d+ fields marked below/);
    expect(await page.getByLabel('Job title').inputValue() === employer.title, 'the refused form lost the title');
    expect(await page.getByLabel('Description').getAttribute('aria-invalid') === 'true', 'the empty description is not marked invalid');
    await audit(page, 'post-refused');

    await page.getByLabel('Category').selectOption({ label: 'Design' });
    await page.getByLabel('Job type').selectOption({ label: 'Contract' });
    await page.getByLabel('Description').fill('## Maps\n\nWe draw **maps** of rivers and roads.');
    await page.getByLabel('Tags').fill('maps, gis');
    await page.getByRole('group', { name: 'Remote from' }).getByLabel('Worldwide').uncheck();
    await page.getByRole('group', { name: 'Remote from' }).getByLabel('Europe').check();
    await page.getByRole('group', { name: 'Remote from' }).getByLabel('Africa').check();
    await page.getByLabel('From', { exact: true }).fill('50000');
    await page.getByLabel('To', { exact: true }).fill('70000');
    await page.getByLabel('Currency').fill('EUR');
    await page.getByLabel('Per', { exact: true }).selectOption('year');
    await page.getByLabel('Company name').fill(employer.company);
    await page.getByLabel('Company website').fill('https://atlas.example');
    await page.getByLabel('Apply email').fill('jobs@atlas.example');
    await click(page, page.getByRole('button', { name: 'Continue to preview' }));
    await expectText(page, 'Create an account, or sign in');
    expect(await page.locator('[aria-current="step"]').innerText() === '2. Your account', 'the account step is not the current one');
    await audit(page, 'post-account');

    // Sign-up inline: a password too short first.
    await page.getByLabel('No, create one').check();
    await page.getByLabel(field('Email')).fill(employer.email);
    await page.getByLabel(field('Password')).fill('short');
    await click(page, page.getByRole('button', { name: 'Continue to preview' }), 422);
    await audit(page, 'post-account-refused');
    await page.getByLabel(field('Password')).fill(employer.password);
    await click(page, page.getByRole('button', { name: 'Continue to preview' }));
    await expectHeading(page, 'Preview your job');
    employer.id = Number(new URL(page.url()).pathname.match(/^\/post\/(\d+)\/preview$/)?.[1]);
    expect(employer.id, `the preview is at ${page.url()}`);
    expect(await page.locator('.preview-frame h1').innerText() === employer.title, 'the preview does not show the title');
    await expectText(page, 'Remote: Europe, Africa', page.locator('.preview-frame').first());
    await expectText(page, '50,000', page.locator('.preview-frame').last());
    await audit(page, 'post-preview');
    await shoot(page, 'preview');

    await click(page, page.getByRole('button', { name: 'Submit for review' }));
    await expectHeading(page, 'Thank you: your job waits for review');
    await audit(page, 'post-done');

    await click(page, page.getByRole('link', { name: 'Go to your dashboard' }));
    await expectHeading(page, 'Your jobs');
    const row = page.getByRole('row').filter({ hasText: employer.title });
    await expectText(page, 'pending review', row);
    await audit(page, 'dashboard');
    await shoot(page, 'dashboard');

    // The link of the welcome email verifies the address.
    await expectText(page, 'Please verify your email address');
    const welcome = await mailTo(employer.email, /\/verify-email/);
    await open(page, linkIn(welcome.text, '/verify-email'));
    await expectHeading(page, 'Verify your email');
    await expectText(page, 'Thank you: your email address is verified.');
    await audit(page, 'verify-email');
    await click(page, page.getByRole('link', { name: 'Go to your dashboard' }));
    expect(!(await page.locator('main').innerText()).includes('Please verify'), 'the dashboard still asks to verify the address');

    const nav = page.getByRole('navigation', { name: 'Dashboard' });
    await click(page, nav.getByRole('link', { name: 'Company profile' }));
    await audit(page, 'dashboard-company');
    await click(page, nav.getByRole('link', { name: 'Receipts' }));
    await audit(page, 'dashboard-receipts');
    await click(page, nav.getByRole('link', { name: 'API tokens' }));
    await audit(page, 'dashboard-tokens');
    await page.getByLabel(/name/i).first().fill('browser-check');
    await click(page, page.getByRole('button', { name: /create/i }));
    await audit(page, 'dashboard-token-created');

    await click(page, nav.getByRole('link', { name: 'Your jobs' }));
    await click(page, page.getByRole('group', { name: `Actions for ${employer.title}` }).getByRole('link', { name: 'Edit' }));
    await expectHeading(page, `Edit “${employer.title}”`);
    await audit(page, 'dashboard-edit');
    await page.getByLabel('Job title').fill('');
    await click(page, page.getByRole('button', { name: 'Save changes' }), 422);
    expect(await page.getByLabel('Job title').getAttribute('aria-invalid') === 'true', 'the empty title is not marked invalid');
    await audit(page, 'dashboard-edit-refused');

    await click(page, nav.getByRole('link', { name: 'Your jobs' }));
    await click(page, page.getByRole('group', { name: `Actions for ${employer.title}` }).getByRole('link', { name: 'Delete' }));
    await expectHeading(page, `Delete “${employer.title}”?`);
    await audit(page, 'dashboard-delete');
    await click(page, page.getByRole('link', { name: 'Keep it' }));
    await expectHeading(page, 'Your jobs');
}

async function adminApprovesFlow() {
    const page = await actor('admin');
    await open(page, '/');
    await click(page, page.getByRole('link', { name: 'Employers' }));
    await expectHeading(page, 'Sign in');
    await audit(page, 'login');
    await shoot(page, 'login');
    await signIn(page, ADMIN_EMAIL, 'not the password', 422);
    await expectHeading(page, 'Sign in');
    await audit(page, 'login-refused');
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await expectHeading(page, 'Your jobs');
    await click(page, page.getByRole('link', { name: 'Admin', exact: true }));
    await expectHeading(page, 'Overview');
    await audit(page, 'admin');

    const adminNav = page.getByRole('navigation', { name: 'Admin' });
    await click(page, adminNav.getByRole('link', { name: 'Jobs' }));
    await expectHeading(page, 'All jobs');
    await audit(page, 'admin-jobs');
    await shoot(page, 'admin-jobs');
    await page.getByLabel('Status').selectOption('pending_review');
    await click(page, page.getByRole('button', { name: 'Filter' }));
    await click(page, page.getByRole('link', { name: employer.title, exact: true }));
    await expectHeading(page, employer.title);
    await audit(page, 'admin-job');
    await page.getByLabel('Reason for rejecting').fill('   ');
    await click(page, page.getByRole('button', { name: 'Reject this job' }), 422);
    await audit(page, 'admin-reject-refused');
    await click(page, page.getByRole('link', { name: `Edit ${employer.title}` }));
    await audit(page, 'admin-edit');
    await click(page, adminNav.getByRole('link', { name: 'Users' }));
    await audit(page, 'admin-users');
    await click(page, adminNav.getByRole('link', { name: 'Payments' }));
    await audit(page, 'admin-payments');

    // Approve it from the moderation queue.
    await click(page, adminNav.getByRole('link', { name: 'Overview' }));
    const queue = page.locator('#queue');
    await click(page, queue.getByRole('button', { name: `Approve ${employer.title}` }));
    expect(await queue.getByRole('row').filter({ hasText: employer.title }).count() === 0, 'the approved job is still in the queue');
}

async function employerSeesItLiveFlow() {
    const page = contexts.employer.pages()[0];
    // The board lists it within a second of the approval.
    const card = page.getByRole('link', { name: employer.title, exact: true });
    for (let i = 0; i < 20; i++) {
        if (i) await new Promise((r) => setTimeout(r, 100));
        await open(page, '/');
        await click(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }));
        if (await card.count()) break;
    }
    expect(await card.count() === 1, `"${employer.title}" is not on /jobs 2 s after its approval`);
    await click(page, card);
    await expectHeading(page, employer.title);
    await expectText(page, employer.company);
    expect(jobId(page.url()) === employer.id, `the job's page is ${page.url()}`);
    // Found by search.
    await search(page, `cartographer ${RUN}`);
    expect(await resultCount(page) === 1 && await card.count() === 1, `searching for "cartographer ${RUN}" does not find the approved job`);
    await click(page, page.getByRole('link', { name: 'Employers' }));
    await expectText(page, 'published', page.getByRole('row').filter({ hasText: employer.title }));
}

async function accountPagesFlow() {
    const page = await actor('forgetful');
    await open(page, '/login');
    await click(page, page.getByRole('link', { name: 'Create an employer account' }));
    await expectHeading(page, 'Create an employer account');
    await audit(page, 'register');
    await page.getByLabel(field('Email')).fill('not an address');
    await page.getByLabel(field('Password')).fill('short');
    await click(page, page.getByRole('button', { name: 'Create account' }), 422);
    await audit(page, 'register-refused');
    await click(page, page.getByRole('link', { name: 'Sign in' }).last());
    await click(page, page.getByRole('link', { name: 'Forgot your password?' }));
    await expectHeading(page, 'Reset your password');
    await audit(page, 'forgot-password');
    await page.getByLabel(field('Email')).fill(employer.email);
    await click(page, page.getByRole('button', { name: 'Send the link' }));
    await expectText(page, 'we have sent it a link');
    await audit(page, 'forgot-password-sent');
    const { text } = await mailTo(employer.email, /\/reset-password/);
    await open(page, linkIn(text, '/reset-password'));
    await expectHeading(page, 'Choose a new password');
    await audit(page, 'reset-password');
    await page.getByLabel('New password').fill('short');
    await click(page, page.getByRole('button', { name: 'Save and sign in' }), 422);
    await audit(page, 'reset-password-refused');
    await open(page, '/reset-password?token=nope', 400);
    await expectText(page, 'This link has expired or was already used.');
    await audit(page, 'reset-password-expired');
}

async function alertFlow() {
    const page = await actor('subscriber');
    const email = `alerts-${RUN}@example.com`;
    await open(page, '/');
    await search(page, 'engineer');
    await click(page, page.getByRole('link', { name: 'Email me jobs like these' }));
    await expectHeading(page, 'Get new jobs by email');
    await expectText(page, 'engineer', page.locator('.alert-summary'));
    expect(await page.getByLabel('Words').inputValue() === 'engineer', 'the alert form does not carry the search');
    await audit(page, 'alerts-form');
    await shoot(page, 'alerts');

    await page.getByLabel(field('Email')).fill('not-an-address');
    await click(page, page.getByRole('button', { name: 'Create the alert' }), 422);
    await audit(page, 'alerts-refused');
    await page.getByLabel(field('Email')).fill(email);
    await page.getByLabel('Once a day').check();
    await click(page, page.getByRole('button', { name: 'Create the alert' }));
    await expectHeading(page, 'Check your inbox');
    await audit(page, 'alerts-sent');

    const { text } = await mailTo(email, /\/alerts\/confirm\//);
    await open(page, linkIn(text, '/alerts/confirm/'));
    await expectHeading(page, 'Your job alert');
    await expectText(page, 'Your alert is on.');
    await expectText(page, 'engineer', page.locator('.alert-details'));
    await audit(page, 'alerts-confirmed');
    await click(page, page.getByRole('link', { name: 'Manage your alerts' }));
    await expectHeading(page, 'Your job alerts');
    await expectText(page, email);
    await audit(page, 'alerts-manage');

    // The page an emailed unsubscribe link opens, then the button on it.
    const action = await page.locator('form[action*="/alerts/unsubscribe/"]').first().getAttribute('action');
    await open(page, action);
    await expectHeading(page, 'Unsubscribe from a job alert');
    await audit(page, 'alerts-unsubscribe');
    await click(page, page.getByRole('button', { name: 'Unsubscribe' }));
    await expectText(page, 'You are unsubscribed');
    await audit(page, 'alerts-unsubscribed');
}

// ---------------------------------------------------------------------------

const started = Date.now();
const browser = await launch();
try {
    await flow('visitor searches, filters, opens a job and applies', visitorFlow);
    await flow('a new employer posts a job', employerPostsFlow);
    await flow('an admin approves it', adminApprovesFlow);
    if (employer.id) await flow('the employer sees it live', employerSeesItLiveFlow);
    await flow('account pages', accountPagesFlow);
    await flow('a visitor subscribes to an alert', alertFlow);
} finally {
    await browser.close();
}
process.exit(summary(started));
